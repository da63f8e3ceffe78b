"""Use cases: `check_*` validates and authorises, `do_*` changes state and emits events."""
