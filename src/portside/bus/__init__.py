"""Event bus adapters: in-process (default) and Redis (scaled out)."""
