"""Storage behind ports: SQLite (embedded default) and PostgreSQL/TimescaleDB, versioned migrations.

Open a store with :func:`open_store` (``sqlite:///path`` or ``postgresql://...``); the rest of the
cloud sees only the ports in :mod:`labcal_cloud.storage.ports`.
"""

from labcal_cloud.storage.errors import StorageError, StorageUnavailableError
from labcal_cloud.storage.factory import open_store
from labcal_cloud.storage.ports import IngestStore, ReadStore, Store, WriteResult

__all__ = [
    "IngestStore",
    "ReadStore",
    "StorageError",
    "StorageUnavailableError",
    "Store",
    "WriteResult",
    "open_store",
]
