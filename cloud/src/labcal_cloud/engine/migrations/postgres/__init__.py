"""PostgreSQL migrations of the engine."""
