"""Run Foxtrot on one machine without Docker: embedded NATS and PostgreSQL, five processes."""
