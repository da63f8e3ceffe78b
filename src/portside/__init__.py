"""Portside: real-time customer communication for cross-border online stores."""

__version__ = "0.1.0"
