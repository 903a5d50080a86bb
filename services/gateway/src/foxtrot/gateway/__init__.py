"""Foxtrot gateway service."""
