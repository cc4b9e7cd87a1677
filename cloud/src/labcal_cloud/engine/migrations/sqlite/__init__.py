"""SQLite migrations of the engine."""
