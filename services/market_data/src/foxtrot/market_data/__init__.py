"""Foxtrot market_data service."""
