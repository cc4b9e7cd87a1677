"""SQL of the read port, shared by both adapters (only the parameter marker differs)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from labcal_cloud.storage.timescale import SERIES_VALUES

__all__ = [
    "COUNTABLE_TABLES",
    "StoredReads",
    "quarantine_sql",
    "readings_sql",
    "runs_sql",
    "usage_daily_sql",
    "usage_sql",
]

COUNTABLE_TABLES = frozenset(
    {"messages", "readings", "usage_reports", "runs", "device_events", "quarantine", "stations"}
)

_READING_COLS = "message_id, idx, station, device_serial, time, value, unit, stable, status, run_id"


def readings_sql(
    mark: str,
    tenant: str,
    *,
    station: str | None,
    device_serial: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    series: bool = False,
) -> tuple[str, list[Any]]:
    """Readings in time order. With ``series`` (PostgreSQL), the values of ``reading_series``
    too. Each branch is cut to ``limit`` rows before they are merged; series are skipped by
    their first/last time, and beyond the bound of :func:`_series_bound`, before their arrays
    are unnested."""
    where = [f"tenant = {mark}"]
    params: list[Any] = [tenant]
    series_where = [f"s.tenant = {mark}"]  # whole series: by identity and first/last time
    series_params: list[Any] = [tenant]
    value_where: list[str] = []  # values of the series left: by their own time
    value_params: list[Any] = []
    for column, op, value, series_column in (
        ("station", "=", station, "s.station"),
        ("device_serial", "=", device_serial, "s.device_serial"),
        ("time", ">=", since, "s.last_time"),
        ("time", "<", until, "s.first_time"),
    ):
        if value is not None:
            where.append(f"{column} {op} {mark}")
            params.append(value)
            series_where.append(f"{series_column} {op} {mark}")
            series_params.append(value)
            if column == "time":
                value_where.append(f"time {op} {mark}")
                value_params.append(value)
    order = f"ORDER BY time, message_id, idx LIMIT {mark}"
    single = f"SELECT {_READING_COLS} FROM readings WHERE {' AND '.join(where)} {order}"
    source = f"SELECT * FROM ({single}) a"
    params.append(limit)
    if series:
        bound, bound_params = _series_bound(mark, series_where, series_params, since, until)
        values = (
            f"SELECT {_READING_COLS} FROM ({SERIES_VALUES} WHERE {' AND '.join(series_where)} "
            f"AND s.first_time <= {bound}) v"
        )
        if value_where:
            values += " WHERE " + " AND ".join(value_where)
        source = f"{source} UNION ALL SELECT * FROM ({values} {order}) b"
        params += series_params + bound_params + [limit] + value_params + [limit]
    params.append(limit)
    sql = f"SELECT * FROM ({source}) r ORDER BY time, message_id, idx LIMIT {mark}"
    return sql, params


def _series_bound(
    mark: str,
    series_where: list[str],
    series_params: list[Any],
    since: datetime | None,
    until: datetime | None,
) -> tuple[str, list[Any]]:
    """SQL for a time T such that no series starting after T holds one of the first ``limit``
    values (its ``limit`` parameter comes last), without unnesting any series.

    In first_time order, take series until those lying wholly inside [since, until) hold at
    least ``limit`` values; T is the latest last_time among the series taken. Those values are
    all in range and all at or before T, so the ``limit``-th value of the answer is at or before
    T, and a series whose first value comes after T has none of the first ``limit``. A series
    that straddles since or until counts for nothing (how many of its values are in range is
    not known without unnesting it), so T is never too early. If there are fewer such values
    than ``limit``, T is the latest last_time of all: no series is skipped.
    """
    inside = ["TRUE"]
    inside_params: list[Any] = []
    if since is not None:
        inside.append(f"s.first_time >= {mark}")
        inside_params.append(since)
    if until is not None:
        inside.append(f"s.last_time < {mark}")
        inside_params.append(until)
    sql = (
        "(SELECT max(b.last_time) FROM (SELECT s.last_time, coalesce(sum(CASE WHEN "
        f"{' AND '.join(inside)} THEN cardinality(s.times) ELSE 0 END) OVER (ORDER BY "
        "s.first_time, s.message_id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) "
        f"AS before FROM reading_series s WHERE {' AND '.join(series_where)}) b "
        f"WHERE b.before < {mark})"
    )
    return sql, inside_params + series_params


def runs_sql(
    mark: str, tenant: str, device_serial: str | None, limit: int
) -> tuple[str, list[Any]]:
    where = f"tenant = {mark}"
    params: list[Any] = [tenant]
    if device_serial is not None:
        where += f" AND pipette_serial = {mark}"
        params.append(device_serial)
    params.append(limit)
    sql = (
        "SELECT message_id, station, run_id, mode, phase, pipette_make, pipette_model, "
        "pipette_serial, balance_serial, nominal_volume_ul, started_at, ended_at, payload_json "
        f"FROM runs WHERE {where} ORDER BY started_at DESC LIMIT {mark}"
    )
    return sql, params


def usage_sql(mark: str, tenant: str, device_serial: str, limit: int) -> tuple[str, list[Any]]:
    sql = (
        "SELECT message_id, station, device_make, device_model, device_serial, time, "
        "cycles_total, cycles_since_service, trigger, volume_setting_ul FROM usage_reports "
        f"WHERE tenant = {mark} AND device_serial = {mark} ORDER BY time LIMIT {mark}"
    )
    return sql, [tenant, device_serial, limit]


def usage_daily_sql(mark: str, tenant: str, device_serial: str) -> tuple[str, list[Any]]:
    sql = (
        "SELECT day, cycles_min, cycles_max, reports FROM usage_daily "
        f"WHERE tenant = {mark} AND device_serial = {mark} ORDER BY day"
    )
    return sql, [tenant, device_serial]


def quarantine_sql(mark: str, tenant: str | None, limit: int) -> tuple[str, list[Any]]:
    params: list[Any] = []
    where = ""
    if tenant is not None:
        where = f"WHERE tenant = {mark} "
        params.append(tenant)
    params.append(limit)
    sql = (
        "SELECT id, received_at, topic, tenant, station, reason, payload FROM quarantine "
        f"{where}ORDER BY id LIMIT {mark}"
    )
    return sql, params


class StoredReads:
    """The read port's methods, shared by both adapters.

    An adapter sets ``_mark`` (its parameter marker) and implements ``_rows``; rows come back in
    one shape from either backend (``stable`` a bool, quarantined ``payload`` bytes).
    """

    _mark: str
    _series = False  # True where batched readings live in ``reading_series`` (PostgreSQL)

    def _rows(self, sql: str, params: list[Any]) -> list[dict[str, Any]]:
        raise NotImplementedError

    def readings(
        self,
        tenant: str,
        *,
        station: str | None = None,
        device_serial: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 1000,
    ) -> list[dict[str, Any]]:
        rows = self._rows(
            *readings_sql(
                self._mark,
                tenant,
                station=station,
                device_serial=device_serial,
                since=since,
                until=until,
                limit=limit,
                series=self._series,
            )
        )
        for r in rows:
            r["stable"] = bool(r["stable"])
        return rows

    def runs(
        self, tenant: str, *, device_serial: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        return self._rows(*runs_sql(self._mark, tenant, device_serial, limit))

    def usage(self, tenant: str, device_serial: str, *, limit: int = 1000) -> list[dict[str, Any]]:
        return self._rows(*usage_sql(self._mark, tenant, device_serial, limit))

    def usage_daily(self, tenant: str, device_serial: str) -> list[dict[str, Any]]:
        return self._rows(*usage_daily_sql(self._mark, tenant, device_serial))

    def quarantine(self, tenant: str | None, *, limit: int = 100) -> list[dict[str, Any]]:
        rows = self._rows(*quarantine_sql(self._mark, tenant, limit))
        for r in rows:
            r["payload"] = bytes(r["payload"])
        return rows

    def count(self, table: str, tenant: str | None = None) -> int:
        if table not in COUNTABLE_TABLES:
            raise ValueError(f"unknown table {table!r}")
        where = "" if tenant is None else f" WHERE tenant = {self._mark}"
        params: list[Any] = [] if tenant is None else [tenant]
        sql = f"SELECT count(*) AS n FROM {table}{where}"
        if table == "readings" and self._series:  # every value of every series counts
            sql = (
                f"SELECT ({sql}) + (SELECT coalesce(sum(cardinality(times)), 0) "
                f"FROM reading_series{where}) AS n"
            )
            params += params
        rows = self._rows(sql, params)
        return int(rows[0]["n"]) if rows else 0
