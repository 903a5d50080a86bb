"""Foxtrot strategy service."""
