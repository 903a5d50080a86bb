"""Foxtrot execution service."""
