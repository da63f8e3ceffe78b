"""Live connections: the hub, per-connection queues with resume, and the wire protocol."""
