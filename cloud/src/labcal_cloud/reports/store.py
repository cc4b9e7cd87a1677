"""Queries behind KPIs, service planning, compliance reports and the NPS survey."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import pairwise

from labcal_cloud.accounts.errors import InvalidInputError
from labcal_cloud.accounts.model import User
from labcal_cloud.booking.store import ACTIVE_BOOKING, active_booking_since
from labcal_cloud.db.gateway import Database
from labcal_cloud.portal.runtime import Runtime
from labcal_cloud.registry.model import DueState, engine_due, not_computed_due
from labcal_cloud.registry.store import (
    DEVICE_COLUMNS,
    ENGINE_JOIN,
    DeviceLine,
    Registry,
    day_of,
    device_from_row,
)
from labcal_cloud.reports.kpis import KpiInputs, Kpis, compute_kpis
from labcal_cloud.reports.planning import HeatMap, PlanDevice, forecast_due, heat_map

__all__ = ["ComplianceRow", "Reports"]

DUE = (DueState.DUE_SOON, DueState.DUE, DueState.OVERDUE)


@dataclass(frozen=True)
class ComplianceRow:
    site: str
    device: str
    serial: str
    state: DueState
    reason: str
    last_calibration: date | None
    certificate: str
    result: str
    next_due: date | None


class Reports:
    def __init__(self, db: Database, runtime: Runtime, registry: Registry) -> None:
        self._db, self._rt, self._registry = db, runtime, registry

    def _all_lines(self) -> list[tuple[DeviceLine, str]]:
        """Every registered device of every customer, with "tenant / site" (provider views)."""
        cols = ", ".join("d." + c.strip() for c in DEVICE_COLUMNS.split(","))
        rows = self._db.query(
            f"SELECT {cols}, s.name, t.name, e.status, e.due_at, e.reason, f.reason"
            " FROM portal_devices d"
            " JOIN portal_sites s ON s.id = d.site_id JOIN portal_tenants t ON t.id = d.tenant_id"
            f"{ENGINE_JOIN} LEFT JOIN maintenance_forecast f ON f.device_id = d.id"
        )
        out = []
        for r in rows:
            device = device_from_row(r)
            due = (
                not_computed_due(device)
                if r[15] is None
                else engine_due(device, r[15], day_of(r[16]), r[17], r[18])
            )
            out.append((DeviceLine(device, due, r[13]), f"{r[14]} / {r[13]}"))
        return out

    def _booked_devices(self) -> set[str]:
        rows = self._db.query(
            "SELECT bd.device_id FROM portal_booking_devices bd JOIN portal_bookings b"
            " ON b.id = bd.booking_id WHERE b.status = 'confirmed'"
        )
        return {r[0] for r in rows}

    def kpis(self) -> tuple[Kpis, dict[DueState, int]]:
        sold = self._db.one(
            "SELECT COUNT(*), COUNT(tenant_id) FROM portal_devices WHERE claim_code IS NOT NULL"
        )
        assert sold is not None
        calibrated = {
            r[0] for r in self._db.query("SELECT DISTINCT device_id FROM portal_calibrations")
        }
        used = {r[0] for r in self._db.query("SELECT DISTINCT device_id FROM portal_usage_weeks")}
        lines = self._all_lines()
        booked = self._booked_devices()
        states: dict[DueState, int] = defaultdict(int)
        active = reminding = booked_due = 0
        for line, _ in lines:
            states[line.due.state] += 1
            d = line.device
            if d.id in calibrated or d.id in used or d.usage_cycles > 0:
                active += 1
            if line.due.state in DUE:
                if d.id in booked:
                    booked_due += 1
                else:
                    reminding += 1
        history = self._db.query(
            "SELECT device_id, performed_at, next_due FROM portal_calibrations"
            " ORDER BY device_id, performed_at"
        )
        recal: list[tuple[date, date]] = []
        for prev, cur in pairwise(history):
            if prev[0] == cur[0]:
                recal.append((datetime.fromisoformat(cur[1]).date(), date.fromisoformat(prev[2])))
        scores = [int(r[0]) for r in self._db.query("SELECT score FROM portal_nps")]
        inputs = KpiInputs(
            int(sold[0]), int(sold[1]), len(lines), active, reminding, booked_due, recal, scores
        )
        return compute_kpis(inputs), dict(states)

    def heat_map(self, weeks: int = 12) -> HeatMap:
        today = self._rt.now().date()
        rates: dict[str, float] = dict(
            self._db.query(
                "SELECT device_id, AVG(cycles) FROM portal_usage_weeks WHERE week_start >= ?"
                " GROUP BY device_id",
                ((today - timedelta(weeks=8)).isoformat(),),
            )
        )
        booked = {
            r[0]
            for r in self._db.query(
                "SELECT bd.device_id FROM portal_booking_devices bd JOIN portal_bookings b"
                f" ON b.id = bd.booking_id WHERE {ACTIVE_BOOKING}",
                (active_booking_since(today),),
            )
        }
        plan = [
            PlanDevice(
                site,
                line.due.state,
                line.due.due_date,
                forecast_due(
                    line.device, line.due.due_date, float(rates.get(line.device.id, 0) or 0), today
                ),
                line.device.id in booked,
            )
            for line, site in self._all_lines()
        ]
        return heat_map(plan, today, weeks)

    def workload(self) -> list[tuple[str, date, int]]:
        """(technician, day, devices) of confirmed bookings from today on."""
        rows = self._db.query(
            "SELECT t.name, b.day, COUNT(bd.device_id) FROM portal_bookings b"
            " JOIN portal_technicians t ON t.id = b.technician_id"
            " JOIN portal_booking_devices bd ON bd.booking_id = b.id"
            " WHERE b.status = 'confirmed' AND b.day >= ? GROUP BY t.name, b.day ORDER BY b.day",
            (self._rt.now().date().isoformat(),),
        )
        return [(r[0], date.fromisoformat(r[1]), int(r[2])) for r in rows]

    def compliance(self, tenant_id: str, site_id: str | None = None) -> list[ComplianceRow]:
        today = self._rt.now().date()
        latest = {
            r[0]: (r[1], bool(r[2]), r[3])
            for r in self._db.query(
                "SELECT device_id, record_json, passed, performed_at FROM portal_calibrations"
                " WHERE tenant_id = ? ORDER BY performed_at",
                (tenant_id,),
            )
        }
        out = []
        for line in self._registry.overview(tenant_id, today, site_id):
            d = line.device
            cert = latest.get(d.id)
            out.append(
                ComplianceRow(
                    line.site_name,
                    f"{d.make} {d.model}",
                    d.serial,
                    line.due.state,
                    line.due.reason,
                    d.last_calibrated_at.date() if d.last_calibrated_at else None,
                    json.loads(cert[0])["number"] if cert else "",
                    ("pass" if cert[1] else "fail") if cert else "",
                    line.due.due_date,
                )
            )
        return out

    def answer_nps(self, user: User, score: int) -> None:
        if not 0 <= score <= 10:
            raise InvalidInputError("the score is 0 to 10")
        self._db.execute(
            "INSERT INTO portal_nps (id, tenant_id, user_id, score, answered_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (self._rt.new_id(), user.tenant_id, user.id, score, self._rt.now().isoformat()),
        )

    def has_answered_nps(self, user: User) -> bool:
        return self._db.one("SELECT 1 FROM portal_nps WHERE user_id = ?", (user.id,)) is not None
