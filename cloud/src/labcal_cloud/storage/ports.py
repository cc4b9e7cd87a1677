"""The storage ports the rest of the cloud depends on (adapters: SQLite, PostgreSQL)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from labcal_cloud.storage.rows import Batch

__all__ = [
    "IngestStore",
    "ReadStore",
    "StationExistsError",
    "StationRecord",
    "StationStore",
    "Store",
    "WriteResult",
]

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class WriteResult:
    stored: int  # messages new to the database
    duplicates: int  # messages already stored with the same content (redelivery): ignored
    quarantined: int  # quarantine rows new to the database (conflicts included)
    conflicts: tuple[UUID, ...] = ()
    """Messages of the batch not stored because their id, or their station and sequence number,
    is stored already with other content: quarantined with a ``conflict:`` reason instead."""
    conflicting_copies: int = 0
    """Later copies in the batch (``Batch.replays``) that carried other content than what is
    stored under their id: quarantined as conflicts too."""


@dataclass(frozen=True, slots=True)
class StationRecord:
    station: str
    tenant: str
    password_hash: str


class StationExistsError(Exception):
    """A station with this id is already registered (station ids are MQTT user names)."""


class IngestStore(Protocol):
    concurrent_writes: bool  # whether batches may commit at once on several connections

    def write_batch(self, batch: Batch) -> WriteResult:
        """Write a batch in one transaction; raise StorageUnavailableError if that failed."""
        ...

    def station_tenants(self) -> dict[str, str]:
        """Every registered station and the tenant it belongs to."""
        ...


class StationStore(Protocol):
    def add_station(self, record: StationRecord) -> None: ...

    def list_stations(self, tenant: str | None = None) -> list[StationRecord]: ...

    def add_api_token(self, tenant: str, token_sha256: str, label: str) -> None: ...

    def tenant_for_token(self, token_sha256: str) -> str | None: ...


class ReadStore(Protocol):
    """Reads for one tenant; every query is filtered by tenant (tenant isolation)."""

    def readings(
        self,
        tenant: str,
        *,
        station: str | None = None,
        device_serial: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 1000,
    ) -> list[Row]: ...

    def runs(
        self, tenant: str, *, device_serial: str | None = None, limit: int = 100
    ) -> list[Row]: ...

    def usage(self, tenant: str, device_serial: str, *, limit: int = 1000) -> list[Row]: ...

    def usage_daily(self, tenant: str, device_serial: str) -> list[Row]: ...

    def quarantine(self, tenant: str | None, *, limit: int = 100) -> list[Row]: ...


class Store(IngestStore, StationStore, ReadStore, Protocol):
    """One database: everything above plus migrations and housekeeping."""

    def migrate(self) -> list[str]:
        """Apply pending migrations; return the names applied."""
        ...

    def count(self, table: str, tenant: str | None = None) -> int: ...

    def close(self) -> None: ...
