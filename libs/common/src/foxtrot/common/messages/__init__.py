"""Versioned wire contracts. ``v1`` is the current major version."""
