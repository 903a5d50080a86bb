"""Routes of the v1 HTTP API."""
