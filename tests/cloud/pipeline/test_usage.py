"""The usage stage on both backends: stored usage reports become the registered device's usage
weeks and cycles since calibration, once; unregistered devices wait; a redelivery changes
nothing; a later report is projected on the next pass."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from labcal_cloud.pipeline.usage import UsageProjection, weekly_cycles
from labcal_cloud.registry.store import OrderItem

from ..portal.helpers import World


def _report(w: World, serial: str, total: int, at: datetime, model: str = "LP-1000") -> None:
    db = w.services.db
    db.execute(
        "INSERT INTO usage_reports (message_id, tenant, station, device_make, device_model,"
        " device_serial, time, cycles_total, cycles_since_service, trigger)"
        " VALUES (?, ?, 'st1', 'LabCal', ?, ?, ?, ?, ?, 'change')",
        (str(uuid.uuid4()), w.a.tenant.id, model, serial, db.at(at), total, total),
    )


def test_reports_become_usage_weeks_once(any_world: World) -> None:
    w = any_world
    device = w.services.registry.add(
        w.a.tenant.id, w.a.site.id, OrderItem("LabCal", "LP-1000", "P0001")
    )
    _report(w, "P0001", 12, datetime(2026, 2, 16, 10, tzinfo=UTC))
    _report(w, "P0001", 30, datetime(2026, 2, 23, 10, tzinfo=UTC))
    _report(w, "UNREGISTERED", 99, datetime(2026, 2, 23, 10, tzinfo=UTC))
    _report(w, "P0001", 50, datetime(2026, 2, 23, 11, tzinfo=UTC), model="OTHER-MODEL")
    projection = UsageProjection(w.services.db, w.services.registry)
    assert projection.project() == [(w.a.tenant.id, "P0001")]
    assert projection.project() == []  # nothing new
    weeks = {str(d): n for d, n in w.services.registry.usage_weeks(w.a.tenant.id, device.id)}
    assert weeks == {"2026-02-16": 12, "2026-02-23": 18}
    assert w.services.registry.device(w.a.tenant.id, device.id).usage_cycles == 30
    _report(w, "P0001", 41, datetime(2026, 3, 2, 8, tzinfo=UTC))
    assert projection.project() == [(w.a.tenant.id, "P0001")]
    assert w.services.registry.device(w.a.tenant.id, device.id).usage_cycles == 41
    # a new projection (a restarted pipeline) recomputes to the same figures
    assert UsageProjection(w.services.db, w.services.registry).project() == [
        (w.a.tenant.id, "P0001")
    ]
    assert w.services.registry.device(w.a.tenant.id, device.id).usage_cycles == 41


def test_weekly_cycles_restart_after_a_counter_reset() -> None:
    at = [datetime(2026, 2, d, tzinfo=UTC) for d in (2, 3, 10, 11)]
    weeks = weekly_cycles(zip(at, (5, 9, 2, 6), strict=True))
    assert {str(k): v for k, v in weeks.items()} == {"2026-02-02": 9, "2026-02-09": 6}
