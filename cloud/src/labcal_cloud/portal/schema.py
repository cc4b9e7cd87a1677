"""Apply the cloud's versioned migrations, the portal's own (0200-0299) among them.

The portal's SQL lives in ``migrations/{sqlite,postgres}/02NN_name.sql`` and is applied by the
storage package's migrator (``labcal-cloud migrate`` or :func:`apply_migrations`), which records
every version once in ``schema_migrations``.
"""

from __future__ import annotations

from labcal_cloud.storage.factory import open_store

__all__ = ["apply_migrations"]


def apply_migrations(database_url: str) -> list[str]:
    """Apply every pending cloud migration to ``database_url``; return the names applied."""
    store = open_store(database_url)
    try:
        return store.migrate()
    finally:
        store.close()
