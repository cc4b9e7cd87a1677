"""Pipeline stage: the usage that ingest stored reaches the registry.

A registered device's usage weeks (``portal_usage_weeks``, the portal's charts) and its cycles
since the last calibration (``portal_devices.usage_cycles``) are recomputed from every usage
report of the device whenever its reports changed (their count or latest time), so a
redelivered report changes nothing and a late one is counted in its own week. Reports of
devices that are not registered wait until they are.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from labcal_cloud.db.gateway import Database
from labcal_cloud.registry.store import Registry

__all__ = ["UsageProjection", "weekly_cycles"]

_CHANGED = """
SELECT d.tenant_id, d.id, u.device_model, u.device_serial, count(*), max(u.time)
FROM usage_reports u
JOIN portal_devices d
  ON d.tenant_id = u.tenant AND d.serial = u.device_serial AND d.model = u.device_model
GROUP BY d.tenant_id, d.id, u.device_model, u.device_serial
"""
_REPORTS = (
    "SELECT time, cycles_total FROM usage_reports WHERE tenant = ? AND device_serial = ?"
    " AND device_model = ?"
)


def weekly_cycles(reports: Iterable[tuple[datetime, int]]) -> dict[date, int]:
    """Cycles per week (Monday) from a device's lifetime counter readings (pure). A new
    device's counter starts at 0; a counter that goes down (service reset) restarts there."""
    weeks: dict[date, int] = {}
    previous = 0
    for at, total in sorted(reports):
        delta = total - previous if total >= previous else total
        day = at.date()
        week = day - timedelta(days=day.weekday())
        weeks[week] = weeks.get(week, 0) + delta
        previous = total
    return weeks


class UsageProjection:
    def __init__(self, db: Database, registry: Registry) -> None:
        self._db, self._registry = db, registry
        self._seen: dict[str, tuple[int, str]] = {}  # device id -> (report count, latest time)

    def project(self) -> list[tuple[str, str]]:
        """Recompute every registered device whose reports changed; returns their
        (tenant id, serial)."""
        updated: list[tuple[str, str]] = []
        for tenant, device_id, model, serial, count, latest in self._db.query(_CHANGED):
            mark = (int(count), str(latest))
            if self._seen.get(device_id) == mark:
                continue
            rows = self._db.query(_REPORTS, (tenant, serial, model))
            weeks = weekly_cycles((_utc(t), int(n)) for t, n in rows)
            with self._db.transaction():
                for week, cycles in sorted(weeks.items()):
                    self._registry.update_usage(tenant, device_id, cycles, week)
            self._seen[device_id] = mark
            updated.append((tenant, serial))
        return updated


def _utc(value: object) -> datetime:
    at = Database.read_at(value)
    assert at is not None  # usage_reports.time is NOT NULL
    return at
