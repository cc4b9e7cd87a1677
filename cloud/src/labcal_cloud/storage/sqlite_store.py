"""SQLite adapter (embedded default): one file, WAL, one writer transaction per batch."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from labcal_cloud.storage import read_queries as q
from labcal_cloud.storage.errors import MigrationError, StorageError, StorageUnavailableError
from labcal_cloud.storage.migration_plan import Features, discover, pending
from labcal_cloud.storage.ports import StationExistsError, StationRecord, WriteResult
from labcal_cloud.storage.rows import (
    Batch,
    EventRow,
    MessageRow,
    QuarantineRow,
    ReadingRow,
    RunRow,
    UsageRow,
    columns,
    conflict_reason,
    conflict_row,
    is_redelivery,
)

__all__ = ["SqliteStore", "to_text_time"]


def to_text_time(value: datetime) -> str:
    """UTC ISO 8601 with microseconds: a fixed format, so text order is time order."""
    return value.astimezone(UTC).isoformat(timespec="microseconds")


sqlite3.register_adapter(datetime, to_text_time)
sqlite3.register_adapter(UUID, str)


def _insert(table: str, row_type: type[tuple[object, ...]], conflict: str = "") -> str:
    cols = columns(row_type)
    marks = ", ".join("?" * len(cols))
    return f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks}){conflict}"


_INSERT_MESSAGE = _insert("messages", MessageRow, " ON CONFLICT DO NOTHING")
_INSERT_READING = _insert("readings", ReadingRow)
_INSERT_USAGE = _insert("usage_reports", UsageRow)
_INSERT_RUN = _insert("runs", RunRow)
_INSERT_EVENT = _insert("device_events", EventRow)
_INSERT_QUARANTINE = _insert("quarantine", QuarantineRow, " ON CONFLICT DO NOTHING")
_SELECT_DIGEST = "SELECT digest FROM messages WHERE message_id = ?"


class SqliteStore(q.StoredReads):
    """A :class:`~labcal_cloud.storage.ports.Store` on one SQLite file."""

    _mark = "?"
    concurrent_writes = False  # one writer at a time: a second committer would only wait

    def __init__(self, path: str | Path, *, busy_timeout_s: float = 30.0) -> None:
        self.path = str(path)
        self._busy_timeout_s = busy_timeout_s
        self._local = threading.local()
        self._lock = threading.Lock()
        self._conns: list[sqlite3.Connection] = []

    # -- connections -------------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(
                    self.path,
                    timeout=self._busy_timeout_s,
                    isolation_level=None,
                    check_same_thread=False,
                )
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
            except sqlite3.Error as exc:
                raise StorageUnavailableError(f"cannot open SQLite {self.path}: {exc}") from exc
            conn.row_factory = sqlite3.Row
            self._local.conn = conn
            with self._lock:
                self._conns.append(conn)
        return conn

    def close(self) -> None:
        with self._lock:
            for conn in self._conns:
                conn.close()
            self._conns.clear()
        self._local = threading.local()

    # -- migrations ----------------------------------------------------------------------------

    def migrate(self) -> list[str]:
        conn = self._conn()
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
            "name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        applied_names: list[str] = []
        for mig in discover("sqlite"):
            conn.execute("BEGIN IMMEDIATE")
            try:
                done = {r[0] for r in conn.execute("SELECT version FROM schema_migrations")}
                if not pending([mig], done):
                    conn.execute("COMMIT")
                    continue
                for sql in mig.statements(Features()):
                    _run_script(conn, sql)
                conn.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?, ?)",
                    (mig.version, mig.name, datetime.now(UTC)),
                )
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                conn.execute("ROLLBACK")
                raise MigrationError(f"migration {mig.version:04d}_{mig.name}: {exc}") from exc
            applied_names.append(f"{mig.version:04d}_{mig.name}")
        return applied_names

    # -- ingest --------------------------------------------------------------------------------

    def write_batch(self, batch: Batch) -> WriteResult:
        try:
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = self._write(conn, batch)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        except sqlite3.IntegrityError as exc:
            raise StorageError(f"SQLite refused the batch: {exc}") from exc
        except sqlite3.Error as exc:
            raise StorageUnavailableError(f"SQLite write failed: {exc}") from exc
        return result

    @staticmethod
    def _write(conn: sqlite3.Connection, batch: Batch) -> WriteResult:
        new: set[UUID] = set()
        conflicts: list[UUID] = []
        quarantined = 0
        for i, m in enumerate(batch.messages):
            if conn.execute(_INSERT_MESSAGE, m).rowcount == 1:
                new.add(m.message_id)
                continue
            reason = _conflict(conn, m)
            if reason is not None:
                conflicts.append(m.message_id)
                quarantined += conn.execute(
                    _INSERT_QUARANTINE, batch.conflict_row(i, reason)
                ).rowcount
        if new:
            conn.executemany(_INSERT_READING, [r for r in batch.readings if r.message_id in new])
            for series in batch.series:  # SQLite keeps one readings row per value
                if series.message_id in new:
                    conn.executemany(_INSERT_READING, series.reading_rows())
            conn.executemany(_INSERT_USAGE, [r for r in batch.usage if r.message_id in new])
            conn.executemany(_INSERT_RUN, [r for r in batch.runs if r.message_id in new])
            conn.executemany(_INSERT_EVENT, [r for r in batch.events if r.message_id in new])
        duplicates = len(batch.messages) - len(new) - len(conflicts)
        copies = 0
        for m, source in batch.replays:
            found = conn.execute(_SELECT_DIGEST, (m.message_id,)).fetchone()
            if found is None or is_redelivery(found[0], m):
                duplicates += 1
            else:
                copies += 1
                row = conflict_row(m, source, conflict_reason(m, None))
                quarantined += conn.execute(_INSERT_QUARANTINE, row).rowcount
        for qrow in batch.quarantine:
            quarantined += conn.execute(_INSERT_QUARANTINE, qrow).rowcount
        return WriteResult(len(new), duplicates, quarantined, tuple(conflicts), copies)

    def station_tenants(self) -> dict[str, str]:
        try:
            rows = self._conn().execute("SELECT station, tenant FROM stations").fetchall()
        except sqlite3.Error as exc:
            raise StorageUnavailableError(f"SQLite read failed: {exc}") from exc
        return {r[0]: r[1] for r in rows}

    # -- stations and tokens -------------------------------------------------------------------

    def add_station(self, record: StationRecord) -> None:
        try:
            self._conn().execute(
                "INSERT INTO stations (station, tenant, password_hash) VALUES (?, ?, ?)",
                (record.station, record.tenant, record.password_hash),
            )
        except sqlite3.IntegrityError:
            raise StationExistsError(f"station {record.station!r} is already registered") from None

    def list_stations(self, tenant: str | None = None) -> list[StationRecord]:
        sql = "SELECT station, tenant, password_hash FROM stations"
        params: tuple[str, ...] = ()
        if tenant is not None:
            sql += " WHERE tenant = ?"
            params = (tenant,)
        rows = self._conn().execute(sql + " ORDER BY station", params).fetchall()
        return [StationRecord(r[0], r[1], r[2]) for r in rows]

    def add_api_token(self, tenant: str, token_sha256: str, label: str) -> None:
        self._conn().execute(
            "INSERT INTO api_tokens (token_sha256, tenant, label) VALUES (?, ?, ?)",
            (token_sha256, tenant, label),
        )

    def tenant_for_token(self, token_sha256: str) -> str | None:
        row = (
            self._conn()
            .execute("SELECT tenant FROM api_tokens WHERE token_sha256 = ?", (token_sha256,))
            .fetchone()
        )
        return None if row is None else str(row[0])

    # -- reads ---------------------------------------------------------------------------------

    def _rows(self, sql: str, params: list[Any]) -> list[dict[str, Any]]:
        return [dict(r) for r in self._conn().execute(sql, params).fetchall()]


def _conflict(conn: sqlite3.Connection, m: MessageRow) -> str | None:
    """Why ``m``, refused by a unique index, is a conflict; None if it is a redelivery."""
    found = conn.execute(_SELECT_DIGEST, (m.message_id,)).fetchone()
    if found is not None:
        return None if is_redelivery(found[0], m) else conflict_reason(m, None)
    other = conn.execute(
        "SELECT message_id FROM messages WHERE station = ? AND seq = ?", (m.station, m.seq)
    ).fetchone()
    return conflict_reason(m, str(other[0]) if other is not None else "?")


def _run_script(conn: sqlite3.Connection, script: str) -> None:
    """Run a multi-statement script inside the open transaction (executescript would commit)."""
    for statement in _split_sql(script):
        conn.execute(statement)


def _split_sql(script: str) -> list[str]:
    statements: list[str] = []
    current = ""
    for line in script.splitlines():
        if line.strip().startswith("--"):
            continue
        current += line + "\n"
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    if current.strip():
        statements.append(current.strip())
    return statements
