"""Strategy's adapters: its PostgreSQL schema, execution's state, wire conversions."""
