"""Risk's adapters: its PostgreSQL schema."""
