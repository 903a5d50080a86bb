"""Foxtrot risk service."""
