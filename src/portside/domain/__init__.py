"""Pure rules and data: no I/O, no frameworks."""
