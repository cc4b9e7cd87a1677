"""From what ingest stored to what the portal shows: usage reports become usage weeks of the
registered device, calibration runs become calibration records with their signed certificate.

Idempotent: each run is projected once (``demo_projection`` remembers it); usage weeks are
recomputed from every report of the device, so a redelivered report changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from labcal_cloud.accounts.errors import PortalError
from labcal_cloud.portal.services import Services
from labcal_shared.contracts import GravimetricRun

__all__ = ["ProjectionResult", "Projector", "weekly_cycles"]

log = logging.getLogger(__name__)

_STATE = (
    "CREATE TABLE IF NOT EXISTS demo_projection (source TEXT NOT NULL, key TEXT NOT NULL,"
    " detail TEXT NOT NULL DEFAULT '', PRIMARY KEY (source, key))"
)


@dataclass(frozen=True, slots=True)
class ProjectionResult:
    usage_devices: int
    certificates: tuple[str, ...]  # calibrated portal device ids
    rejected_runs: int


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


class Projector:
    def __init__(self, services: Services, balance_traceability: str) -> None:
        self._s = services
        self._traceability = balance_traceability
        self._s.db.execute(_STATE)
        self._usage_seen = 0

    def _device(self, tenant: str, make: str, model: str, serial: str) -> str | None:
        row = self._s.db.one(
            "SELECT id FROM portal_devices WHERE tenant_id = ? AND make = ? AND model = ?"
            " AND serial = ?",
            (tenant, make, model, serial),
        )
        return str(row[0]) if row else None

    def project_usage(self) -> int:
        """Recompute the usage weeks of every device that reported since the last call."""
        count = self._s.db.one("SELECT count(*) FROM usage_reports")
        total = int(count[0]) if count else 0
        if total == self._usage_seen:
            return 0
        self._usage_seen = total
        devices = self._s.db.query(
            "SELECT DISTINCT tenant, device_make, device_model, device_serial FROM usage_reports"
        )
        updated = 0
        for tenant, make, model, serial in devices:
            device_id = self._device(tenant, make, model, serial)
            if device_id is None:
                continue
            rows = self._s.db.query(
                "SELECT time, cycles_total FROM usage_reports WHERE tenant = ?"
                " AND device_serial = ? AND device_model = ?",
                (tenant, serial, model),
            )
            weeks = weekly_cycles((datetime.fromisoformat(t), int(n)) for t, n in rows)
            for week, cycles in weeks.items():
                self._s.registry.update_usage(tenant, device_id, cycles, week)
            updated += 1
        return updated

    def project_runs(self) -> tuple[list[str], int]:
        """Calibration runs not seen yet → calibration records with signed certificates."""
        rows = self._s.db.query(
            "SELECT message_id, tenant, pipette_make, pipette_model, pipette_serial, payload_json"
            " FROM runs WHERE mode = 'calibration' AND message_id NOT IN"
            " (SELECT key FROM demo_projection WHERE source = 'run') ORDER BY ended_at"
        )
        done: list[str] = []
        rejected = 0
        for message_id, tenant, make, model, serial, payload in rows:
            device_id = self._device(tenant, make, model, serial)
            detail = ""
            if device_id is None:
                detail = f"no registered device {make} {model} {serial}"
            else:
                try:
                    run = GravimetricRun.model_validate_json(payload)
                    record = self._s.certificates.record(
                        device_id,
                        run,
                        balance_traceability=self._traceability,
                        balance_valid_until=run.ended_at + timedelta(days=180),
                    )
                    detail = record.id
                    done.append(device_id)
                except PortalError as exc:
                    detail = f"rejected: {exc}"
            if detail.startswith(("no ", "rejected")):
                rejected += 1
                log.warning("run %s not certified: %s", message_id, detail)
            self._s.db.execute(
                "INSERT OR IGNORE INTO demo_projection (source, key, detail) VALUES ('run', ?, ?)",
                (str(message_id), detail),
            )
        return done, rejected

    def project(self) -> ProjectionResult:
        usage = self.project_usage()
        certified, rejected = self.project_runs()
        return ProjectionResult(usage, tuple(certified), rejected)
