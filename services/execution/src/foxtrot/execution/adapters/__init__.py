"""Execution's adapters: its PostgreSQL schema."""
