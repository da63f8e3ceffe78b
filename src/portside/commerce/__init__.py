"""Catalogue and orders: the built-in store's products."""
