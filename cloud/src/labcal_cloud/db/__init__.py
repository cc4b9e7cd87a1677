"""The one way into the database: :mod:`labcal_cloud.db.gateway` (SQLite or PostgreSQL)."""

from labcal_cloud.db.gateway import Database, Row, connect, placeholders, utc_text

__all__ = ["Database", "Row", "connect", "placeholders", "utc_text"]
