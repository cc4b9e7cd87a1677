"""The certify stage on SQLite and PostgreSQL, after the engine's records stage: a calibration
record of a registered device gets one signed certificate under its own id; a passed one marks
the device calibrated and ends its booking, a failed one is certified as failed and leaves the
device's calibration date alone (the engine blocks it); a quick check gets no certificate; a
record of a pipette nobody registered waits until the device is registered."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from labcal_cloud.db.gateway import Database
from labcal_cloud.engine.due import DuePolicy, DueStatus
from labcal_cloud.engine.service import process_runs, refresh_due_states
from labcal_cloud.engine.store_sql import SqlEngineRepository
from labcal_cloud.pipeline.certify import certify
from labcal_cloud.registry.store import OrderItem
from labcal_cloud.scheduler.event_outbox import WebhookOutbox
from labcal_shared.iso8655.verdict import Verdict

from ..portal.helpers import World

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE: dict[str, Any] = json.loads((ROOT / "docs/examples/gravimetric_run.json").read_text())[
    "payload"
]


def _run(
    serial: str = "P0001",
    *,
    ended: datetime,
    bias: float = 1.0,
    mode: str = "calibration",
    humidity_pct: float = 55.0,
) -> dict[str, Any]:
    """The documented example run made a complete calibration: its 1000 µL series scaled to
    100 %, 50 % and 10 %, the environment recorded at the start and at the end."""
    payload = copy.deepcopy(EXAMPLE)
    payload["run_id"] = str(uuid.uuid4())
    payload["mode"] = mode
    payload["phase"] = None
    payload["pipette"]["serial"] = serial
    payload["started_at"] = (ended - timedelta(minutes=20)).isoformat()
    payload["ended_at"] = ended.isoformat()
    sample = {**payload["environment"][0], "humidity_pct": humidity_pct}
    payload["environment"] = [sample, sample]
    [full] = payload["test_volumes"]
    shares = (1.0, 0.1) if mode == "quick_check" else (1.0, 0.5, 0.1)
    payload["test_volumes"] = [
        {
            "volume_ul": full["volume_ul"] * share,
            "channel": 1,
            "masses_mg": [m * share * bias for m in full["masses_mg"]],
            "evaporation_per_cycle_mg": 0.02,
        }
        for share in shares
    ]
    if mode == "quick_check":
        for tv in payload["test_volumes"]:
            tv["masses_mg"] = tv["masses_mg"][:4]
    return payload


def _store_run(db: Database, tenant: str, payload: dict[str, Any]) -> str:
    """What ingest stores for a run message (the ``runs`` row)."""
    message_id = str(uuid.uuid4())
    p = payload["pipette"]
    db.execute(
        "INSERT INTO runs (message_id, tenant, station, run_id, mode, phase, pipette_make,"
        " pipette_model, pipette_serial, balance_serial, nominal_volume_ul, started_at, ended_at,"
        " payload_json) VALUES (?, ?, 'st1', ?, ?, NULL, ?, ?, ?, 'B123456789', 1000, ?, ?, ?)",
        (message_id, tenant, payload["run_id"], payload["mode"], p["make"], p["model"],
         p["serial"], db.at(datetime.fromisoformat(payload["started_at"])),
         db.at(datetime.fromisoformat(payload["ended_at"])), json.dumps(payload)),
    )  # fmt: skip
    return message_id


def _records(w: World) -> int:
    db = w.services.db
    result = process_runs(SqlEngineRepository(db), WebhookOutbox(db), now=w.clock)
    return result.recorded


def test_records_of_registered_devices_get_one_certificate(any_world: World) -> None:
    w = any_world
    s, tenant, db = w.services, w.a.tenant.id, w.services.db
    device = s.registry.add(tenant, w.a.site.id, OrderItem("LabCal", "LP-1000", "P0001", 1000))
    s.db.execute(
        "INSERT INTO portal_technicians (id, name, weekdays, daily_slots) VALUES"
        " ('tech-1', 'T', '0,1,2,3,4,5,6', 5)"
    )
    booking = s.bookings.book(w.a.admin, w.a.site.id, date(2026, 3, 4), [device.id], False)
    w.clock.advance(days=2, hours=3)  # 2026-03-04 12:00: the booked visit took place
    ended = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
    _store_run(db, tenant, _run(ended=ended))
    _store_run(db, tenant, _run(ended=ended + timedelta(minutes=30), mode="quick_check"))
    _store_run(db, tenant, _run("P0002", ended=ended))  # nobody registered P0002 yet
    assert _records(w) == 3

    skip: set[str] = set()
    first = certify(db, s.certificates, s.bookings, skip=skip)
    assert [i.calibration.serial for i in first.issued] == ["P0001"]
    assert first.failed == ()
    issued = first.issued[0]
    assert issued.calibration.id == issued.record.record_id.hex  # one record, one certificate
    assert issued.record.passed
    assert issued.record.verdict is Verdict.CONFORMING
    assert issued.describe().endswith("(Conforming)")
    _, pdf = s.certificates.pdf(tenant, issued.calibration.id)
    assert s.certificates.signer.verify(pdf).valid
    assert s.registry.device(tenant, device.id).last_calibrated_at == ended
    assert s.bookings.get(tenant, booking.id).status == "done"
    assert certify(db, s.certificates, s.bookings, skip=skip).issued == ()  # once

    later = s.registry.add(tenant, w.a.site.id, OrderItem("LabCal", "LP-1000", "P0002", 1000))
    waited = certify(db, s.certificates, s.bookings, skip=skip)
    assert [(i.calibration.device_id, i.calibration.serial) for i in waited.issued] == [
        (later.id, "P0002")
    ]
    kinds = db.query("SELECT kind FROM calibration_record ORDER BY kind")
    assert [k for (k,) in kinds] == ["calibration", "calibration", "quick_check"]
    assert len(s.certificates.history(tenant, device.id)) == 1  # the quick check has none


def test_a_failed_calibration_is_certified_as_failed_and_blocks_the_device(
    any_world: World,
) -> None:
    w = any_world
    s, tenant, db = w.services, w.a.tenant.id, w.services.db
    device = s.registry.add(tenant, w.a.site.id, OrderItem("LabCal", "LP-1000", "P0001", 1000))
    calibrated = datetime(2025, 6, 1, tzinfo=UTC)
    s.registry.mark_calibrated(device.id, calibrated, 365)
    _store_run(db, tenant, _run(ended=datetime(2026, 3, 2, 8, 0, tzinfo=UTC), bias=1.05))
    assert _records(w) == 1
    [issued] = certify(db, s.certificates, s.bookings, skip=set()).issued
    assert issued.record.passed is False
    assert issued.describe().endswith("(Not conforming)")
    assert s.certificates.history(tenant, device.id)[0].passed is False
    assert s.registry.device(tenant, device.id).last_calibrated_at == calibrated  # unchanged
    refresh_due_states(SqlEngineRepository(db), WebhookOutbox(db), DuePolicy(), now=w.clock())
    row = db.one("SELECT status FROM device_due_state WHERE device_id = ?", (device.id,))
    assert row == (DueStatus.BLOCKED.value,)


def test_a_record_that_cannot_be_certified_is_reported_once_and_the_rest_go_on(
    any_world: World,
) -> None:
    w = any_world
    s, tenant, db = w.services, w.a.tenant.id, w.services.db
    s.registry.add(tenant, w.a.site.id, OrderItem("LabCal", "LP-1000", "P0001", 1000))
    s.registry.add(tenant, w.a.site.id, OrderItem("LabCal", "LP-1000", "P0003", 1000))
    ended = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    _store_run(db, tenant, _run(ended=ended))
    _store_run(db, tenant, _run("P0003", ended=ended + timedelta(minutes=1)))
    assert _records(w) == 2
    # the first record's run payload is damaged after the fact: its pipette no longer matches
    db.execute(
        "UPDATE runs SET payload_json = ? WHERE pipette_serial = 'P0001'",
        (json.dumps(_run("SOMEONE-ELSE", ended=ended)),),
    )
    skip: set[str] = set()
    result = certify(db, s.certificates, s.bookings, skip=skip)
    assert [i.calibration.serial for i in result.issued] == ["P0003"]
    [failure] = result.failed
    assert "SOMEONE-ELSE" in failure
    again = certify(db, s.certificates, s.bookings, skip=skip)
    assert (again.issued, again.failed) == ((), ())


def _due(w: World, device_id: str) -> tuple[str, str, str]:
    db = w.services.db
    refresh_due_states(SqlEngineRepository(db), WebhookOutbox(db), DuePolicy(), now=w.clock())
    row = db.one(
        "SELECT status, basis, reason FROM device_due_state WHERE device_id = ?", (device_id,)
    )
    assert row is not None
    return str(row[0]), str(row[1]), str(row[2])


def test_a_failed_run_and_a_quick_check_leave_the_device_not_calibrated(any_world: World) -> None:
    w = any_world
    s, tenant, db = w.services, w.a.tenant.id, w.services.db
    failed = s.registry.add(tenant, w.a.site.id, OrderItem("LabCal", "LP-1000", "P0001", 1000))
    checked = s.registry.add(tenant, w.a.site.id, OrderItem("LabCal", "LP-1000", "P0002", 1000))
    ended = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    _store_run(db, tenant, _run("P0001", ended=ended, bias=1.05))
    _store_run(db, tenant, _run("P0002", ended=ended, mode="quick_check"))  # within limits
    assert _records(w) == 2
    result = certify(db, s.certificates, s.bookings, skip=set())
    assert [i.calibration.serial for i in result.issued] == ["P0001"]  # no certificate: check
    for device in (failed, checked):
        assert s.registry.device(tenant, device.id).last_calibrated_at is None
    status, basis, reason = _due(w, failed.id)
    assert (status, basis) == (DueStatus.BLOCKED.value, "failed_calibration")
    assert "not conforming" in reason
    assert "outside the MPE" in reason
    status, basis, _ = _due(w, checked.id)
    assert (status, basis) == (DueStatus.DUE.value, "never_calibrated")  # still to calibrate
    [check] = [
        r for (r,) in db.query("SELECT verdict FROM calibration_record WHERE kind = 'quick_check'")
    ]
    assert check == Verdict.CONFORMING_WITH_FINDING.value  # 4 replicates: a check, not ISO 8655
    assert s.certificates.history(tenant, checked.id) == []


def test_a_calibration_within_limits_but_with_a_finding_blocks_the_device_for_review(
    any_world: World,
) -> None:
    w = any_world
    s, tenant, db = w.services, w.a.tenant.id, w.services.db
    device = s.registry.add(tenant, w.a.site.id, OrderItem("LabCal", "LP-1000", "P0001", 1000))
    _store_run(db, tenant, _run(ended=datetime(2026, 3, 2, 8, 0, tzinfo=UTC), humidity_pct=49.8))
    assert _records(w) == 1
    [issued] = certify(db, s.certificates, s.bookings, skip=set()).issued
    assert issued.record.passed  # every result within its limit …
    assert issued.record.verdict is Verdict.CONFORMING_WITH_FINDING  # … but no statement
    [entry] = s.certificates.history(tenant, device.id)
    assert (entry.passed, entry.state_class) == (False, "amber")  # no green "Pass"
    assert entry.verdict_label == "Within limits, conformity not stated (finding)"
    assert s.registry.device(tenant, device.id).last_calibrated_at is None
    status, basis, reason = _due(w, device.id)
    assert (status, basis) == (DueStatus.BLOCKED.value, "calibration_review")
    assert "49.8 %" in reason
