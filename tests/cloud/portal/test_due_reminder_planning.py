"""The production reminder path: the engine's due states + the portal's users and their
preferences → nudge steps in the scheduler's PostgreSQL tables (``engine plan-reminders``).

Each lab user of the device's tenant gets every step of the due sequence in each of their
channels, out of their quiet hours in their time zone; planning again adds nothing; a booking
cancels the steps and planning after it plans none for the booked device.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from labcal_cloud.db.gateway import connect
from labcal_cloud.engine.due import DueBasis, DueState, DueStatus
from labcal_cloud.engine.store_sql import SqlEngineRepository
from labcal_cloud.scheduler.due_planning import plan_due_reminder_steps
from labcal_cloud.scheduler.pg_store import PostgresReminderStore
from labcal_cloud.scheduler.reminder_control import PostgresReminderControl

from .helpers import World, api_token, build_world, client_for

pytestmark = pytest.mark.postgres

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


@pytest.fixture
def rworld(fresh_database_url: str) -> Iterator[World]:
    build_world(fresh_database_url).services.db.close()  # migrate before the store opens
    store = PostgresReminderStore(fresh_database_url)
    w = build_world(fresh_database_url, reminders=PostgresReminderControl(store, lambda: w.clock()))
    yield w
    w.services.db.close()
    store.close()


def _plan(url: str) -> tuple[int, int, int, tuple[str, ...]]:
    r = plan_due_reminder_steps(
        url, now=NOW, link_key=KEY, booking_base_url="http://portal.test/book"
    )
    return r.devices, r.booked, r.added, r.bad_preferences


def _steps(url: str, device_id: str) -> dict[tuple[str, str, str], tuple[str, datetime, str]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT recipient, step, channel, address, send_at, status FROM reminder_step"
            " WHERE subject_key = %s",
            (device_id,),
        ).fetchall()
    return {(r[0], r[1], r[2]): (r[3], r[4], r[5]) for r in rows}


def test_due_devices_users_get_their_steps_in_their_channels_until_booked(
    rworld: World, fresh_database_url: str
) -> None:
    w, url = rworld, fresh_database_url
    client = client_for(w)
    headers = api_token(w, w.a.admin)
    new = {"site_id": w.a.site.id, "make": "Acme", "model": "P100"}
    due = client.post("/api/v1/devices", headers=headers, json={**new, "serial": "PR-1"}).json()
    fine = client.post("/api/v1/devices", headers=headers, json={**new, "serial": "PR-2"}).json()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO portal_notification_prefs (user_id, channels, phone, time_zone,"
            " quiet_start, quiet_end) VALUES (%s, 'sms, email,inbox', '+491701234567',"
            " 'Europe/Berlin', '21:00', '08:00')",
            (w.a.admin.id,),
        )
        conn.execute(  # tenant b's lab admin: an unknown channel → defaults, reported
            "INSERT INTO portal_notification_prefs (user_id, channels) VALUES (%s, 'pigeon')",
            (w.b.admin.id,),
        )
    repo = SqlEngineRepository(db := connect(url))
    try:
        tenant = w.a.tenant.id
        repo.save_due_state(
            tenant,
            "PR-1",
            DueState(DueStatus.DUE_SOON, DueBasis.TIME, DUE_AT, "due in 18 days"),
            None,
        )
        ok = DueState(DueStatus.OK, DueBasis.TIME, DUE_AT + timedelta(days=200), "ok")
        repo.save_due_state(tenant, "PR-2", ok, None)
        unregistered = DueState(DueStatus.OVERDUE, DueBasis.TIME, DUE_AT, "overdue")
        repo.save_due_state(tenant, "NOT-IN-PORTAL", unregistered, None)
    finally:
        db.close()

    devices, booked, added, bad = _plan(url)
    assert (devices, booked, bad) == (1, 0, (w.b.admin.id,))
    steps = _steps(url, due["id"])
    assert _steps(url, fine["id"]) == {}
    utc_morning = timedelta(hours=10)  # default quiet hours 21:00-08:00 UTC → 08:00 UTC
    expected: dict[tuple[str, str, str], tuple[str, datetime, str]] = {}
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
    assert added == len(expected)

    # planning again never doubles a step
    assert _plan(url)[2] == 0
    assert _steps(url, due["id"]) == expected

    # a booking stops the sequence, and planning afterwards plans nothing for that device
    client.post(
        "/api/v1/technicians",
        headers=api_token(w, w.provider_admin),
        json={"name": "T", "weekdays": [0, 1, 2, 3, 4], "daily_slots": 3},
    )
    r = client.post(
        "/api/v1/bookings",
        headers=headers,
        json={"site_id": w.a.site.id, "day": "2026-03-04", "device_ids": [due["id"]]},
    )
    assert r.status_code == 201, r.text
    assert {v[2] for v in _steps(url, due["id"]).values()} == {"cancelled"}
    devices, booked, added, _ = _plan(url)
    assert (devices, booked, added) == (0, 1, 0)
    assert {v[2] for v in _steps(url, due["id"]).values()} == {"cancelled"}
    assert len(_steps(url, due["id"])) == len(expected)


def test_ok_again_cancels_pending_steps_and_the_next_cycle_plans_anew(
    rworld: World, fresh_database_url: str
) -> None:
    w, url = rworld, fresh_database_url
    client = client_for(w)
    headers = api_token(w, w.a.admin)
    body = {"site_id": w.a.site.id, "make": "Acme", "model": "P100", "serial": "CY-1"}
    device = client.post("/api/v1/devices", headers=headers, json=body).json()
    repo = SqlEngineRepository(db := connect(url))

    def engine_says(status: DueStatus, due_at: datetime) -> None:
        repo.save_due_state(
            w.a.tenant.id, "CY-1", DueState(status, DueBasis.TIME, due_at, "x"), None
        )

    try:
        engine_says(DueStatus.DUE_SOON, DUE_AT)
        _plan(url)
        first = _steps(url, device["id"])
        assert first
        assert {k[1].split("@")[1] for k in first} == {"never"}
        # calibrated (without a booking): the engine says ok, pending steps are cancelled
        w.services.registry.mark_calibrated(device["id"], NOW, 365)
        engine_says(DueStatus.OK, NOW + timedelta(days=365))
        r = plan_due_reminder_steps(
            url, now=NOW, link_key=KEY, booking_base_url="http://portal.test/book"
        )
        assert (r.devices, r.added, r.cancelled) == (0, 0, len(first))
        assert {v[2] for v in _steps(url, device["id"]).values()} == {"cancelled"}
        # a year later the next cycle is due: its own steps, the old ones untouched
        engine_says(DueStatus.DUE_SOON, DUE_AT + timedelta(days=365))
        _plan(url)
        steps = _steps(url, device["id"])
        fresh = {k: v for k, v in steps.items() if k[1].endswith("@" + NOW.date().isoformat())}
        assert len(fresh) == len(first)
        assert {v[2] for v in fresh.values()} == {"pending"}
        assert len(steps) == 2 * len(first)
    finally:
        db.close()
