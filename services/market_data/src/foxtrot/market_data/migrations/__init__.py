"""Market data's Alembic migrations (schema ``market_data``)."""
