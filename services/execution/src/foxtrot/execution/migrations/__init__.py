"""Execution's Alembic migrations (schema ``execution``)."""
