"""The production reminder path: the engine's due states + the portal's users and their
preferences → nudge steps in the scheduler's tables (``labcal-cloud scheduler plan``), on SQLite
and PostgreSQL (every test runs on both).

Each lab user of the device's tenant gets every step of the due sequence in each of their
channels, out of their quiet hours in their time zone; planning again adds nothing; a booking
cancels the steps and planning after it plans none for the booked device — until the booking is
done (a calibration) or missed (its day more than 14 days past); a new calibration record starts
a new cycle of steps even when the portal's own calibration date is stale.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from labcal_cloud.cli import main
from labcal_cloud.db.gateway import Database, connect
from labcal_cloud.engine.due import DueBasis, DueState, DueStatus
from labcal_cloud.engine.store_sql import SqlEngineRepository
from labcal_cloud.scheduler.due_planning import PlanResult, plan_due_reminder_steps
from labcal_cloud.scheduler.reminder_control import SqlReminderControl
from labcal_cloud.scheduler.reminder_store import SqlReminderStore

from .helpers import World, api_token, build_world, client_for

KEY = b"k" * 32
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
# 22:00 UTC: in Berlin 23:00 (CET) before 29 March, 00:00 (CEST) after; quiet 21:00-08:00 there
DUE_AT = datetime(2026, 4, 10, 22, 0, tzinfo=UTC)
# step: (days from due, shift to 08:00 Berlin: 07:00 UTC in CET, 06:00 UTC in CEST)
OFFSETS = {
    "initial": (-30, timedelta(hours=9)),
    "follow_up": (-14, timedelta(hours=9)),
    "last_notice": (-3, timedelta(hours=8)),
    "overdue_escalation": (7, timedelta(hours=8)),
}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'portal.db'}"
    return str(request.getfixturevalue("fresh_database_url"))


@pytest.fixture
def db(url: str) -> Iterator[Database]:
    build_world(url).services.db.close()  # migrate before the store's connection opens
    database = connect(url)
    yield database
    database.close()


@pytest.fixture
def rworld(url: str, db: Database) -> Iterator[World]:
    control = SqlReminderControl(SqlReminderStore(db), lambda: w.clock())
    w = build_world(url, reminders=control)
    yield w
    w.services.db.close()


def _plan(db: Database, now: datetime = NOW) -> PlanResult:
    return plan_due_reminder_steps(
        db, now=now, link_key=KEY, booking_base_url="http://portal.test/book"
    )


def _steps(db: Database, device_id: str) -> dict[tuple[str, str, str], tuple[str, Any, str]]:
    rows = db.query(
        "SELECT recipient, step, channel, address, send_at, status FROM reminder_step"
        " WHERE subject_key = ?",
        (device_id,),
    )
    return {(r[0], r[1], r[2]): (r[3], Database.read_at(r[4]), r[5]) for r in rows}


def engine_says(
    db: Database, tenant: str, serial: str, status: DueStatus, due_at: datetime
) -> None:
    """The engine's stored due state of a device (``device_due_state``), keyed like the engine
    keys it: the registry's device id when the device is registered."""
    row = db.one(
        "SELECT id FROM portal_devices WHERE tenant_id = ? AND serial = ?", (tenant, serial)
    )
    state = DueState(status, DueBasis.TIME, due_at, "x")
    SqlEngineRepository(db).save_due_state(
        tenant, serial, state, None, device_id=None if row is None else str(row[0]), at=NOW
    )


def calibration_recorded(db: Database, tenant: str, serial: str, ended_at: datetime) -> None:
    """An engine calibration record of the device (``calibration_record``, immutable)."""
    db.execute(
        "INSERT INTO calibration_record (record_id, tenant, run_id, kind, phase, pipette_serial,"
        " pipette_model, balance_serial, operator, started_at, ended_at, recorded_at,"
        " mpe_edition, passed, conformity_claimable, record_json)"
        " VALUES (?, ?, ?, 'calibration', 'as_left', ?, 'P100', 'B-1', 'op', ?, ?, ?,"
        " 'ISO 8655-2:2002', ?, ?, '{}')",
        (
            str(uuid.uuid4()),
            tenant,
            str(uuid.uuid4()),
            serial,
            db.at(ended_at - timedelta(minutes=10)),
            db.at(ended_at),
            db.at(ended_at),
            True,
            True,
        ),
    )


def _device(w: World, serial: str) -> str:
    client = client_for(w)
    body = {"site_id": w.a.site.id, "make": "Acme", "model": "P100", "serial": serial}
    r = client.post("/api/v1/devices", headers=api_token(w, w.a.admin), json=body)
    assert r.status_code == 201, r.text
    device_id: str = r.json()["id"]
    return device_id


def _book(w: World, device_id: str, day: str = "2026-03-04") -> str:
    client = client_for(w)
    client.post(
        "/api/v1/technicians",
        headers=api_token(w, w.provider_admin),
        json={"name": "T", "weekdays": [0, 1, 2, 3, 4], "daily_slots": 3},
    )
    r = client.post(
        "/api/v1/bookings",
        headers=api_token(w, w.a.admin),
        json={"site_id": w.a.site.id, "day": day, "device_ids": [device_id]},
    )
    assert r.status_code == 201, r.text
    booking_id: str = r.json()["id"]
    return booking_id


def test_due_devices_users_get_their_steps_in_their_channels_until_booked(
    rworld: World, db: Database
) -> None:
    w = rworld
    due, fine = _device(w, "PR-1"), _device(w, "PR-2")
    db.execute(
        "INSERT INTO portal_notification_prefs (user_id, channels, phone, time_zone,"
        " quiet_start, quiet_end) VALUES (?, 'sms, email,inbox', '+491701234567',"
        " 'Europe/Berlin', '21:00', '08:00')",
        (w.a.admin.id,),
    )
    db.execute(  # tenant b's lab admin: an unknown channel → defaults, reported
        "INSERT INTO portal_notification_prefs (user_id, channels) VALUES (?, 'pigeon')",
        (w.b.admin.id,),
    )
    tenant = w.a.tenant.id
    engine_says(db, tenant, "PR-1", DueStatus.DUE_SOON, DUE_AT)
    engine_says(db, tenant, "PR-2", DueStatus.OK, DUE_AT + timedelta(days=200))
    engine_says(db, tenant, "NOT-IN-PORTAL", DueStatus.OVERDUE, DUE_AT)

    r = _plan(db)
    assert (r.devices, r.booked, r.bad_preferences) == (1, 0, (w.b.admin.id,))
    steps = _steps(db, due)
    assert _steps(db, fine) == {}
    utc_morning = timedelta(hours=10)  # default quiet hours 21:00-08:00 UTC → 08:00 UTC
    expected: dict[tuple[str, str, str], tuple[str, Any, str]] = {}
    for step, (days, berlin_morning) in OFFSETS.items():
        at = DUE_AT + timedelta(days=days)
        admin, user = w.a.admin, w.a.user
        step = f"{step}@never"  # the device's calibration cycle: none yet
        expected[(admin.id, step, "sms")] = ("+491701234567", at + berlin_morning, "pending")
        expected[(admin.id, step, "email")] = (admin.email, at + berlin_morning, "pending")
        expected[(admin.id, step, "inbox")] = (admin.id, at, "pending")  # never delayed
        expected[(user.id, step, "email")] = (user.email, at + utc_morning, "pending")
        expected[(user.id, step, "inbox")] = (user.id, at, "pending")
    assert steps == expected
    assert r.added == len(expected)

    # planning again never doubles a step
    assert _plan(db).added == 0
    assert _steps(db, due) == expected

    # a booking stops the sequence, and planning afterwards plans nothing for that device
    _book(w, due)
    assert {v[2] for v in _steps(db, due).values()} == {"cancelled"}
    r = _plan(db)
    assert (r.devices, r.booked, r.added, r.resumed) == (0, 1, 0, 0)
    assert {v[2] for v in _steps(db, due).values()} == {"cancelled"}
    assert len(_steps(db, due)) == len(expected)


def test_plan_command(
    rworld: World,
    url: str,
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ["--database-url", url, "scheduler", "plan"]
    monkeypatch.delenv("LABCAL_LINK_SECRET", raising=False)
    assert main(args) == 2  # no link key: refused, nothing planned
    assert "LABCAL_LINK_SECRET is not set" in capsys.readouterr().out
    monkeypatch.setenv("LABCAL_LINK_SECRET", "s" * 31)
    assert main(args) == 2
    assert "LABCAL_LINK_SECRET is too short" in capsys.readouterr().out
    monkeypatch.setenv("LABCAL_LINK_SECRET", "s" * 32)
    assert main(args) == 0
    assert (
        "0 due devices (0 booked, skipped), 0 steps planned, 0 new, 0 resumed; 0 pending"
        in capsys.readouterr().out
    )
    device_id = _device(rworld, "CMD-1")
    engine_says(db, rworld.a.tenant.id, "CMD-1", DueStatus.DUE, NOW)
    assert main(args) == 0
    assert "1 due devices (0 booked, skipped)" in capsys.readouterr().out
    assert {v[2] for v in _steps(db, device_id).values()} == {"pending"}


def test_ok_again_cancels_pending_steps_and_the_next_cycle_plans_anew(
    rworld: World, db: Database
) -> None:
    w = rworld
    device = _device(w, "CY-1")
    tenant = w.a.tenant.id
    engine_says(db, tenant, "CY-1", DueStatus.DUE_SOON, DUE_AT)
    _plan(db)
    first = _steps(db, device)
    assert first
    assert {k[1].split("@")[1] for k in first} == {"never"}
    # calibrated (without a booking): the engine says ok, pending steps are cancelled
    w.services.registry.mark_calibrated(device, NOW, 365)
    engine_says(db, tenant, "CY-1", DueStatus.OK, NOW + timedelta(days=365))
    r = _plan(db)
    assert (r.devices, r.added, r.cancelled) == (0, 0, len(first))
    assert {v[2] for v in _steps(db, device).values()} == {"cancelled"}
    # a year later the next cycle is due: its own steps, the old ones untouched
    engine_says(db, tenant, "CY-1", DueStatus.DUE_SOON, DUE_AT + timedelta(days=365))
    _plan(db)
    steps = _steps(db, device)
    fresh = {k: v for k, v in steps.items() if k[1].endswith("@" + NOW.date().isoformat())}
    assert len(fresh) == len(first)
    assert {v[2] for v in fresh.values()} == {"pending"}
    assert len(steps) == 2 * len(first)


def test_a_new_calibration_record_starts_a_new_cycle_though_the_portal_date_is_stale(
    rworld: World, db: Database
) -> None:
    w = rworld
    device = _device(w, "REC-1")
    tenant = w.a.tenant.id
    w.services.registry.mark_calibrated(device, NOW - timedelta(days=400), 365)  # never updated
    engine_says(db, tenant, "REC-1", DueStatus.OVERDUE, NOW - timedelta(days=35))
    first = _plan(db)
    assert first.added > 0
    old = _steps(db, device)
    assert {k[1] for k in old} == {"overdue_escalation@2025-01-26"}  # the portal's date
    # calibrated again; the engine's record says so, the portal's date stays stale
    calibration_recorded(db, tenant, "REC-1", NOW + timedelta(days=1))
    calibration_recorded(db, "other-tenant", "REC-1", NOW + timedelta(days=9))  # not this one
    later = NOW + timedelta(days=366)
    engine_says(db, tenant, "REC-1", DueStatus.OVERDUE, later - timedelta(days=10))
    r = _plan(db, later)
    assert r.added == first.added  # the next cycle's escalation, not dropped as a duplicate
    cycles = {k[1] for k in _steps(db, device)}
    assert cycles == {"overdue_escalation@2025-01-26", "overdue_escalation@2026-03-03"}


def test_a_done_booking_no_longer_skips_the_device(rworld: World, db: Database) -> None:
    w = rworld
    device = _device(w, "DONE-1")
    tenant = w.a.tenant.id
    engine_says(db, tenant, "DONE-1", DueStatus.DUE, NOW + timedelta(days=2))
    booking = _book(w, device)
    assert _plan(db).booked == 1
    calibrated_at = NOW + timedelta(days=2)
    # a calibration before the booking was made does not end it; one after it does
    assert w.services.bookings.complete_for_device(tenant, device, NOW - timedelta(days=1)) == 0
    assert w.services.bookings.complete_for_device(tenant, device, calibrated_at) == 1
    assert w.services.bookings.get(tenant, booking).status == "done"
    assert w.services.bookings.complete_for_device(tenant, device, calibrated_at) == 0
    calibration_recorded(db, tenant, "DONE-1", calibrated_at)
    engine_says(db, tenant, "DONE-1", DueStatus.DUE_SOON, NOW + timedelta(days=365))
    r = _plan(db, NOW + timedelta(days=340))
    assert (r.devices, r.booked) == (1, 0)
    pending = [k for k, v in _steps(db, device).items() if v[2] == "pending"]
    assert pending
    assert {k[1].split("@")[1] for k in pending} == {"2026-03-04"}


def test_a_missed_booking_lets_the_reminders_resume(rworld: World, db: Database) -> None:
    w = rworld
    device = _device(w, "MISS-1")
    tenant = w.a.tenant.id
    engine_says(db, tenant, "MISS-1", DueStatus.DUE_SOON, DUE_AT)
    _plan(db)
    _book(w, device, "2026-03-04")
    assert {v[2] for v in _steps(db, device).values()} == {"cancelled"}
    # 14 days after the booked day the booking still holds
    held = _plan(db, datetime(2026, 3, 18, 12, 0, tzinfo=UTC))
    assert (held.booked, held.resumed) == (1, 0)
    # nobody came and nothing was recorded: from the 15th day on, reminding resumes
    missed_at = datetime(2026, 3, 19, 12, 0, tzinfo=UTC)
    r = _plan(db, missed_at)
    assert (r.devices, r.booked, r.added) == (1, 0, 0)
    assert r.resumed > 0
    revived = {k: v for k, v in _steps(db, device).items() if v[2] == "pending"}
    assert len(revived) == r.resumed
    assert {k[1].split("@")[0] for k in revived} >= {"last_notice", "overdue_escalation"}
    assert all(v[1] >= missed_at for v in revived.values())
    # and the device can be booked again
    w.clock.at = datetime(2026, 3, 18, 12, 0, tzinfo=UTC)
    assert device in w.services.bookings.booked_device_ids(tenant)
    w.clock.at = missed_at
    assert device not in w.services.bookings.booked_device_ids(tenant)
    _book(w, device, "2026-03-24")
