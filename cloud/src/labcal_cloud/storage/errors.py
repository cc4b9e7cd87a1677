"""Storage errors, translated at the adapter boundary from sqlite3 / psycopg errors.

StorageError                 a storage operation failed
├── StorageUnavailableError  the database cannot be reached now (retry later; nothing acked)
└── MigrationError           a migration file is malformed or failed to apply
"""

from __future__ import annotations

from labcal_cloud.errors import CloudError

__all__ = ["MigrationError", "StorageError", "StorageUnavailableError"]


class StorageError(CloudError):
    """A storage operation failed."""


class StorageUnavailableError(StorageError):
    """The database cannot be reached or refused the transaction for a transient reason."""


class MigrationError(StorageError):
    """A migration is malformed (bad name, duplicate number, out of its range) or failed."""
