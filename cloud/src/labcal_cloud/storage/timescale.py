"""SQL for the time-series tables: TimescaleDB when the extension is present, plain PostgreSQL
otherwise (pure: it only builds strings, so both paths are unit-tested).

TimescaleDB requires every unique index of a hypertable to include the time column, so the
primary keys of ``readings``, ``usage_reports`` and ``device_events`` are widened with their time
column first. Idempotence is unaffected: it rests on ``messages.message_id`` (a plain table), and a
message's rows always carry the same time.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "HYPERTABLES",
    "READING_SERIES",
    "SERIES_VALUES",
    "Hypertable",
    "plain_statements",
    "reading_series_statements",
    "timescale_statements",
]


@dataclass(frozen=True, slots=True)
class Hypertable:
    table: str
    time_column: str
    key: tuple[str, ...]  # primary key without the time column
    chunk_interval: str
    segment_by: tuple[str, ...]
    compress_after: str | None
    indexes: tuple[tuple[str, ...], ...]  # plain time indexes (leading columns, then time)


HYPERTABLES: tuple[Hypertable, ...] = (
    Hypertable(
        "readings",
        "time",
        ("message_id", "idx"),
        "1 day",
        ("tenant", "device_serial"),
        "7 days",
        (("tenant", "device_serial"), ("tenant", "station")),
    ),
    Hypertable(
        "usage_reports",
        "time",
        ("message_id",),
        "7 days",
        ("tenant", "device_serial"),
        "30 days",
        (("tenant", "device_serial"),),
    ),
    Hypertable(
        "device_events",
        "time",
        ("message_id",),
        "30 days",
        ("tenant", "device_serial"),
        None,
        (("tenant", "device_serial"),),
    ),
)

_RUN_INDEX = "CREATE INDEX runs_tenant_pipette_time ON runs (tenant, pipette_serial, started_at)"
_MESSAGE_INDEX = "CREATE INDEX messages_tenant_received ON messages (tenant, received_at)"


def _index_name(table: str, cols: tuple[str, ...], time_column: str) -> str:
    return "_".join((table, *cols, time_column))


def _plain_indexes(t: Hypertable) -> list[str]:
    return [
        f"CREATE INDEX {_index_name(t.table, cols, t.time_column)} "
        f"ON {t.table} ({', '.join(cols)}, {t.time_column})"
        for cols in t.indexes
    ]


def _hypertable(t: Hypertable) -> list[str]:
    """Primary key widened with the time column, the hypertable, indexes, compression."""
    key = ", ".join((*t.key, t.time_column))
    out = [
        f"ALTER TABLE {t.table} DROP CONSTRAINT {t.table}_pkey",
        f"ALTER TABLE {t.table} ADD PRIMARY KEY ({key})",
        f"SELECT create_hypertable('{t.table}', by_range('{t.time_column}', "
        f"INTERVAL '{t.chunk_interval}'), migrate_data => true)",
    ]
    for cols in t.indexes:
        name = _index_name(t.table, cols, t.time_column)
        out.append(f"CREATE INDEX {name} ON {t.table} ({', '.join(cols)}, {t.time_column} DESC)")
    if t.compress_after is not None:
        out += [
            f"ALTER TABLE {t.table} SET (timescaledb.compress, "
            f"timescaledb.compress_segmentby = '{', '.join(t.segment_by)}', "
            f"timescaledb.compress_orderby = '{t.time_column} DESC')",
            f"SELECT add_compression_policy('{t.table}', INTERVAL '{t.compress_after}')",
        ]
    return out


def plain_statements(tables: tuple[Hypertable, ...] = HYPERTABLES) -> list[str]:
    """Plain PostgreSQL: B-tree time indexes and an ordinary ``usage_daily`` view."""
    out: list[str] = []
    for t in tables:
        out += _plain_indexes(t)
    out += [_RUN_INDEX, _MESSAGE_INDEX]
    out.append(
        "CREATE VIEW usage_daily AS "
        "SELECT tenant, device_serial, (time AT TIME ZONE 'UTC')::date AS day, "
        "min(cycles_total) AS cycles_min, max(cycles_total) AS cycles_max, count(*) AS reports "
        "FROM usage_reports GROUP BY 1, 2, 3"
    )
    return out


def timescale_statements(tables: tuple[Hypertable, ...] = HYPERTABLES) -> list[str]:
    """TimescaleDB: hypertables, compression policies and a continuous aggregate of daily usage."""
    out = ["CREATE EXTENSION IF NOT EXISTS timescaledb"]
    for t in tables:
        out += _hypertable(t)
    out += [_RUN_INDEX, _MESSAGE_INDEX]
    out += [
        "CREATE MATERIALIZED VIEW usage_daily WITH (timescaledb.continuous) AS "
        "SELECT tenant, device_serial, time_bucket(INTERVAL '1 day', time) AS day, "
        "min(cycles_total) AS cycles_min, max(cycles_total) AS cycles_max, count(*) AS reports "
        "FROM usage_reports GROUP BY tenant, device_serial, time_bucket(INTERVAL '1 day', time) "
        "WITH NO DATA",
        "SELECT add_continuous_aggregate_policy('usage_daily', start_offset => INTERVAL '3 days', "
        "end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '1 hour')",
        "ALTER MATERIALIZED VIEW usage_daily SET (timescaledb.materialized_only = false)",
    ]
    return out


READING_SERIES = Hypertable(
    "reading_series",
    "first_time",
    ("message_id",),
    "1 day",
    ("tenant", "device_serial"),
    "7 days",
    (("tenant", "device_serial"), ("tenant", "station")),
)

_SERIES_TABLE = """CREATE TABLE reading_series (
    message_id    uuid PRIMARY KEY,
    tenant        text NOT NULL,
    station       text NOT NULL,
    device_serial text NOT NULL,
    run_id        uuid,
    first_time    timestamptz NOT NULL,
    last_time     timestamptz NOT NULL,
    times         timestamptz[] NOT NULL,
    vals          double precision[] NOT NULL,
    units         text[] NOT NULL,
    stables       boolean[] NOT NULL,
    statuses      text[] NOT NULL,
    CHECK (cardinality(times) > 0
           AND cardinality(vals) = cardinality(times)
           AND cardinality(units) = cardinality(times)
           AND cardinality(stables) = cardinality(times)
           AND cardinality(statuses) = cardinality(times))
)"""

SERIES_VALUES = (
    "SELECT s.message_id, (u.n - 1)::integer AS idx, s.tenant, s.station, s.device_serial, "
    "u.time, u.value, u.unit, u.stable, u.status, s.run_id FROM reading_series s "
    "CROSS JOIN LATERAL unnest(s.times, s.vals, s.units, s.stables, s.statuses) "
    "WITH ORDINALITY AS u(time, value, unit, stable, status, n)"
)
"""Every value of every series as a reading row (the columns of ``readings``)."""


def reading_series_statements(timescaledb: bool) -> list[str]:
    """``reading_series`` (the values of a batch message as one row of arrays) and the view
    ``all_readings``: the rows of ``readings`` and every series value, in one relation."""
    out = [_SERIES_TABLE]
    out += _hypertable(READING_SERIES) if timescaledb else _plain_indexes(READING_SERIES)
    out.append(
        "CREATE VIEW all_readings AS SELECT message_id, idx, tenant, station, device_serial, "
        f"time, value, unit, stable, status, run_id FROM readings UNION ALL {SERIES_VALUES}"
    )
    return out
