"""A booking stops the device's reminder sequence in the scheduler's store; a cancellation resumes
the steps still ahead (the scheduler's ReminderControl adapter behind the booking port)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import psycopg
import pytest

from labcal_cloud.portal.commands import reminder_control
from labcal_cloud.scheduler.pg_store import PostgresReminderStore
from labcal_cloud.scheduler.ports import NewStep
from labcal_cloud.scheduler.reminder_control import PostgresReminderControl

from .helpers import World, api_token, build_world, client_for

pytestmark = pytest.mark.postgres


@pytest.fixture
def rworld(fresh_database_url: str) -> Iterator[World]:
    build_world(fresh_database_url).services.db.close()  # migrate before the store opens
    scheduler_store = PostgresReminderStore(fresh_database_url)
    w = build_world(
        fresh_database_url, reminders=PostgresReminderControl(scheduler_store, lambda: w.clock())
    )
    yield w
    w.services.db.close()
    scheduler_store.close()


def test_portal_uses_the_scheduler_control_on_postgresql_only() -> None:
    assert reminder_control("sqlite:///portal.db") is None


def test_booking_stops_and_cancelling_resumes_the_reminder_sequence(
    rworld: World, fresh_database_url: str
) -> None:
    w = rworld
    client = client_for(w)
    client.post(
        "/api/v1/technicians",
        headers=api_token(w, w.provider_admin),
        json={"name": "T", "weekdays": [0, 1, 2, 3, 4], "daily_slots": 3},
    )
    headers = api_token(w, w.a.admin)
    device = client.post(
        "/api/v1/devices",
        headers=headers,
        json={"site_id": w.a.site.id, "serial": "RS-1", "make": "Acme", "model": "P100"},
    ).json()
    store = PostgresReminderStore(fresh_database_url)
    try:
        later = w.clock.at + timedelta(days=400)  # ahead in real time too, so resume applies
        store.enqueue(
            [
                NewStep(
                    w.a.tenant.id,
                    "due",
                    device["id"],
                    f"day_{d}",
                    w.a.admin.id,
                    "email",
                    w.a.admin.email,
                    "Due",
                    "Book now",
                    later + timedelta(days=d),
                )
                for d in (0, 7)
            ]
        )
    finally:
        store.close()

    def statuses() -> list[str]:
        with psycopg.connect(fresh_database_url) as conn:
            rows = conn.execute(
                "SELECT status FROM reminder_step WHERE subject_key = %s ORDER BY step",
                (device["id"],),
            ).fetchall()
        return [r[0] for r in rows]

    assert statuses() == ["pending", "pending"]
    booking = client.post(
        "/api/v1/bookings",
        headers=headers,
        json={"site_id": w.a.site.id, "day": "2026-03-04", "device_ids": [device["id"]]},
    ).json()
    assert statuses() == ["cancelled", "cancelled"]
    client.delete(f"/api/v1/bookings/{booking['id']}", headers=headers)
    assert statuses() == ["pending", "pending"]
