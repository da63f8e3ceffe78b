"""HTTP and WebSocket endpoints, and the static widget and console."""
