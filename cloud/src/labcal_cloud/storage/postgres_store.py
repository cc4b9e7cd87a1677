"""PostgreSQL adapter (psycopg 3): connection pool; a batch is copied straight into its tables
(binary COPY, under a savepoint). If a message of it is stored already (a redelivery: a unique
violation), the batch goes through session staging tables instead, then one statement inserts the
new messages and the per-kind rows of exactly those messages.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool, PoolTimeout

from labcal_cloud.storage import read_queries as q
from labcal_cloud.storage.errors import MigrationError, StorageError, StorageUnavailableError
from labcal_cloud.storage.merge_conflicts import (
    judge_replays,
    quarantine_conflicts,
    refused_by_merge,
)
from labcal_cloud.storage.migration_plan import Features, discover, pending
from labcal_cloud.storage.ports import StationExistsError, StationRecord, WriteResult
from labcal_cloud.storage.rows import (
    Batch,
    EventRow,
    MessageRow,
    QuarantineRow,
    ReadingRow,
    ReadingSeriesRow,
    RunRow,
    UsageRow,
    columns,
)

__all__ = ["PIPELINE_CHANNEL", "PostgresStore", "detect_features"]

_MIGRATION_LOCK = 0x1AB_CA1  # pg_advisory_xact_lock key: one migrator at a time

_CHILDREN: tuple[tuple[str, type[tuple[object, ...]]], ...] = (
    ("readings", ReadingRow),
    ("reading_series", ReadingSeriesRow),
    ("usage_reports", UsageRow),
    ("runs", RunRow),
    ("device_events", EventRow),
)


# PostgreSQL types of each row type's columns, for binary COPY (3-4x faster than text COPY).
# JSON columns are staged as text and cast in the merge. A drift from the migrations fails loudly.
_JSON_COLUMNS = frozenset({"payload_json"})
_TYPES: dict[str, list[str]] = {
    "messages": [
        "uuid", "text", "text", "int8", "text", "text", "text", "text", "text", "text",
        "timestamptz", "timestamptz", "text", "timestamptz", "bytea", "text",
    ],
    "readings": [
        "uuid", "int4", "text", "text", "text", "timestamptz", "float8", "text", "bool", "text",
        "uuid",
    ],
    "reading_series": [
        "uuid", "text", "text", "text", "uuid", "timestamptz", "timestamptz", "timestamptz[]",
        "float8[]", "text[]", "bool[]", "text[]",
    ],
    "usage_reports": [
        "uuid", "text", "text", "text", "text", "text", "timestamptz", "int8", "int8", "text",
        "float8",
    ],
    "runs": [
        "uuid", "text", "text", "uuid", "text", "text", "text", "text", "text", "text", "float8",
        "timestamptz", "timestamptz", "text",
    ],
    "device_events": ["uuid", "text", "text", "text", "timestamptz", "text", "text", "text"],
}  # fmt: skip


if any(c in _JSON_COLUMNS for _, t in (("", MessageRow), *_CHILDREN) for c in columns(t)[:-1]):
    raise RuntimeError("a JSON column must be its table's last (see _copy)")

_STAGED = ("messages", *(t for t, _ in _CHILDREN))
_TRUNCATE_AFTER_ROWS = 2_000  # dead staged rows slow every merge; TRUNCATE costs ~1 ms


PIPELINE_CHANNEL = "labcal_pipeline"
"""``LISTEN`` channel the pipeline waits on; ingest notifies it when runs, usage or events
are committed."""
_NOTIFY_PIPELINE = f"SELECT pg_notify('{PIPELINE_CHANNEL}', 'ingest')"


def _stage_sql() -> list[str]:
    out = []
    for t in _STAGED:
        # no ON COMMIT DELETE ROWS: PostgreSQL would truncate every such table at every commit
        # (~0.7 ms each); rows are deleted after the merge and the tables truncated now and then
        out.append(f"CREATE TEMP TABLE IF NOT EXISTS stage_{t} (LIKE {t})")
        if t in ("messages", "runs"):
            out.append(f"ALTER TABLE stage_{t} ALTER COLUMN payload_json TYPE text")
    # the merge inserts staged messages in arrival order: of two ids under one station and seq
    # in a batch, the first is kept and the second refused as a conflict
    out.append(
        "ALTER TABLE stage_messages "
        "ADD COLUMN IF NOT EXISTS ord bigint GENERATED ALWAYS AS IDENTITY"
    )
    return out


def _select_list(row_type: type[tuple[object, ...]], prefix: str = "") -> str:
    return ", ".join(
        f"{prefix}{c}::jsonb" if c in _JSON_COLUMNS else f"{prefix}{c}" for c in columns(row_type)
    )


@functools.cache
def _merge_sql(tables: tuple[str, ...]) -> str:
    """Insert the staged messages that are new, and the staged rows of ``tables`` for them."""
    mcols = ", ".join(columns(MessageRow))
    parts = [
        f"new AS (INSERT INTO messages ({mcols}) SELECT {_select_list(MessageRow)} "
        "FROM stage_messages ORDER BY ord "
        "ON CONFLICT DO NOTHING RETURNING message_id)"
    ]
    for table, row_type in _CHILDREN:
        if table not in tables:
            continue
        cols = ", ".join(columns(row_type))
        scols = _select_list(row_type, "s.")
        parts.append(
            f"ins_{table} AS (INSERT INTO {table} ({cols}) SELECT {scols} FROM stage_{table} s "
            "JOIN new USING (message_id))"
        )
    return "WITH " + ",\n".join(parts) + "\nSELECT count(*) FROM new"


_STAGE = _stage_sql()
_QCOLS = columns(QuarantineRow)
_INSERT_QUARANTINE = (
    f"INSERT INTO quarantine ({', '.join(_QCOLS)}) VALUES ({', '.join(['%s'] * len(_QCOLS))}) "
    "ON CONFLICT (digest) DO NOTHING"
)


def detect_features(conn: psycopg.Connection[Any]) -> Features:
    """TimescaleDB is used when installed, or available and preloaded (else CREATE fails)."""
    installed = conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'").fetchone()
    if installed:
        return Features(timescaledb=True)
    available = conn.execute(
        "SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'"
    ).fetchone()
    row = conn.execute("SELECT current_setting('shared_preload_libraries')").fetchone()
    preloaded = row is not None and "timescaledb" in str(row[0])
    return Features(timescaledb=bool(available) and preloaded)


class PostgresStore(q.StoredReads):
    """A :class:`~labcal_cloud.storage.ports.Store` on PostgreSQL (TimescaleDB when present)."""

    _mark = "%s"
    _series = True
    concurrent_writes = True

    def __init__(
        self,
        url: str,
        *,
        min_size: int = 1,
        max_size: int = 4,
        pool_timeout_s: float = 3.0,
        truncate_after_rows: int = _TRUNCATE_AFTER_ROWS,
    ) -> None:
        self.url = url
        self._truncate_after_rows = truncate_after_rows
        self._pool = ConnectionPool(
            url,
            min_size=min_size,
            max_size=max_size,
            open=False,
            timeout=pool_timeout_s,
            reconnect_timeout=0,
            kwargs={"connect_timeout": 5},
        )
        self._pool.open(wait=False)
        # connections that have their staging tables → rows staged since the last TRUNCATE
        self._staged: weakref.WeakKeyDictionary[psycopg.Connection[Any], int] = (
            weakref.WeakKeyDictionary()
        )

    def close(self) -> None:
        self._pool.close()

    # -- migrations ----------------------------------------------------------------------------

    def migrate(self) -> list[str]:
        names: list[str] = []
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, "
                "name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            features = detect_features(conn)
            for mig in discover("postgres"):
                try:
                    with conn.transaction():
                        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
                        done = {r[0] for r in conn.execute("SELECT version FROM schema_migrations")}
                        if not pending([mig], done):
                            continue
                        for sql in mig.statements(features):
                            conn.execute(sql.encode())
                        conn.execute(
                            "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                            (mig.version, mig.name),
                        )
                except psycopg.Error as exc:
                    raise MigrationError(f"migration {mig.version:04d}_{mig.name}: {exc}") from exc
                names.append(f"{mig.version:04d}_{mig.name}")
        return names

    # -- ingest --------------------------------------------------------------------------------

    def write_batch(self, batch: Batch) -> WriteResult:
        try:
            with self._pool.connection() as conn:
                if conn not in self._staged:  # session temp tables, in their own transaction
                    with conn.transaction():
                        for sql in _STAGE:
                            conn.execute(sql.encode())
                    self._staged[conn] = 0
                with conn.transaction():
                    stored, quarantined, conflicts, copies = self._write(conn, batch)
        except (psycopg.OperationalError, PoolTimeout) as exc:
            raise StorageUnavailableError(f"PostgreSQL unavailable: {exc}") from exc
        except psycopg.Error as exc:
            raise StorageError(f"PostgreSQL refused the batch: {exc}") from exc
        duplicates = len(batch.messages) + len(batch.replays) - stored - len(conflicts) - copies
        return WriteResult(stored, duplicates, quarantined, conflicts, copies)

    def _write(
        self, conn: psycopg.Connection[Any], batch: Batch
    ) -> tuple[int, int, tuple[UUID, ...], int]:
        cur = conn.cursor()
        children = (
            ("readings", ReadingRow, batch.readings),
            ("reading_series", ReadingSeriesRow, batch.series),
            ("usage_reports", UsageRow, batch.usage),
            ("runs", RunRow, batch.runs),
            ("device_events", EventRow, batch.events),
        )
        stored = quarantined = 0
        conflicts: tuple[UUID, ...] = ()
        if batch.messages:
            try:
                with conn.transaction():  # a savepoint: straight into the tables
                    _copy(cur, "messages", MessageRow, batch.messages, direct=True)
                    for table, row_type, rows in children:
                        _copy(cur, table, row_type, rows, direct=True)
                stored = len(batch.messages)
            except psycopg.errors.UniqueViolation:  # a message stored before: merge instead
                stored, refused = self._merge(conn, cur, batch, children)
                quarantined = quarantine_conflicts(cur, batch, refused, _INSERT_QUARANTINE)
                conflicts = tuple(message_id for message_id, _ in refused)
        copies, n = judge_replays(cur, batch, _INSERT_QUARANTINE)
        quarantined += n
        for qrow in batch.quarantine:
            cur.execute(_INSERT_QUARANTINE, qrow)
            quarantined += cur.rowcount
        if batch.runs or batch.usage or batch.events:
            # delivered to listeners at commit (never for a rolled-back batch): wakes the pipeline
            cur.execute(_NOTIFY_PIPELINE)
        return stored, quarantined, conflicts, copies

    def _merge(
        self,
        conn: psycopg.Connection[Any],
        cur: psycopg.Cursor[Any],
        batch: Batch,
        children: Sequence[tuple[str, type[tuple[object, ...]], Sequence[tuple[object, ...]]]],
    ) -> tuple[int, list[tuple[UUID, UUID | None]]]:
        """Stage the batch, then insert the messages that are new and the rows of just those;
        return how many were new, and the conflicts (staged id, id stored at its seq or None)."""
        written = ("messages", *(t for t, _, rows in children if rows))
        _copy(cur, "messages", MessageRow, batch.messages)
        for table, row_type, rows in children:
            _copy(cur, table, row_type, rows)
        row = cur.execute(_merge_sql(written[1:]).encode()).fetchone()
        conflicts = refused_by_merge(cur)
        staged = self._staged.get(conn, 0) + len(batch.messages) + len(batch.readings)
        staged += len(batch.series)
        if staged > self._truncate_after_rows:  # reclaim the deleted rows' space
            cur.execute(f"TRUNCATE {', '.join(f'stage_{t}' for t in _STAGED)}".encode())
            staged = 0
        else:
            for t in written:
                cur.execute(f"DELETE FROM stage_{t}".encode())
        self._staged[conn] = staged
        return (int(row[0]) if row else 0), conflicts

    def station_tenants(self) -> dict[str, str]:
        try:
            with self._pool.connection() as conn:
                rows = conn.execute("SELECT station, tenant FROM stations").fetchall()
        except (psycopg.OperationalError, PoolTimeout) as exc:
            raise StorageUnavailableError(f"PostgreSQL unavailable: {exc}") from exc
        return {r[0]: r[1] for r in rows}

    # -- stations and tokens -------------------------------------------------------------------

    def add_station(self, record: StationRecord) -> None:
        try:
            with self._pool.connection() as conn:
                conn.execute(
                    "INSERT INTO stations (station, tenant, password_hash) VALUES (%s, %s, %s)",
                    (record.station, record.tenant, record.password_hash),
                )
        except psycopg.errors.UniqueViolation:
            raise StationExistsError(f"station {record.station!r} is already registered") from None

    def list_stations(self, tenant: str | None = None) -> list[StationRecord]:
        sql = "SELECT station, tenant, password_hash FROM stations"
        params: tuple[str, ...] = ()
        if tenant is not None:
            sql += " WHERE tenant = %s"
            params = (tenant,)
        with self._pool.connection() as conn:
            rows = conn.execute(sql + " ORDER BY station", params).fetchall()
        return [StationRecord(r[0], r[1], r[2]) for r in rows]

    def add_api_token(self, tenant: str, token_sha256: str, label: str) -> None:
        with self._pool.connection() as conn:
            conn.execute(
                "INSERT INTO api_tokens (token_sha256, tenant, label) VALUES (%s, %s, %s)",
                (token_sha256, tenant, label),
            )

    def tenant_for_token(self, token_sha256: str) -> str | None:
        with self._pool.connection() as conn:
            row = conn.execute(
                "SELECT tenant FROM api_tokens WHERE token_sha256 = %s", (token_sha256,)
            ).fetchone()
        return None if row is None else str(row[0])

    # -- reads ---------------------------------------------------------------------------------

    def _rows(self, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
        with self._pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            return cur.execute(sql.encode(), params).fetchall()


def _copy(
    cur: psycopg.Cursor[Any],
    table: str,
    row_type: type[tuple[object, ...]],
    rows: Sequence[tuple[object, ...]],
    *,
    direct: bool = False,
) -> None:
    """Binary COPY of ``rows`` into ``table`` (``direct``) or its staging table."""
    if not rows:
        return
    cols = columns(row_type)
    target = table if direct else f"stage_{table}"
    with cur.copy(f"COPY {target} ({', '.join(cols)}) FROM STDIN (FORMAT BINARY)".encode()) as copy:
        if direct and cols[-1] in _JSON_COLUMNS:  # JSON text into jsonb, as it is
            copy.set_types([*_TYPES[table][:-1], "jsonb"])
            for row in rows:
                text = row[-1]
                copy.write_row(row if text is None else (*row[:-1], Jsonb(text, _as_is)))
            return
        copy.set_types(_TYPES[table])
        for row in rows:
            copy.write_row(row)


def _as_is(text: Any) -> str:
    return str(text)
