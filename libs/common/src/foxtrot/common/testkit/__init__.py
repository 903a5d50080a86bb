"""Test kit: real NATS JetStream and PostgreSQL for integration and end-to-end tests."""
