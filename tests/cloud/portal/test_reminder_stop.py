"""A booking stops the device's reminder sequence in the scheduler's store; a cancellation resumes
the steps still ahead (the scheduler's ReminderControl adapter behind the booking port, as
``portal-serve`` wires it) — on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from labcal_cloud.db.gateway import Database, connect
from labcal_cloud.notify.steps import NewStep
from labcal_cloud.portal.commands import reminder_control
from labcal_cloud.scheduler.reminder_store import SqlReminderStore

from .helpers import World, api_token, build_world, client_for


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'portal.db'}"
    return str(request.getfixturevalue("fresh_database_url"))


@pytest.fixture
def rworld(url: str) -> Iterator[tuple[World, Database]]:
    build_world(url).services.db.close()  # migrate before the store's connection opens
    db = connect(url)
    w = build_world(url, reminders=reminder_control(db))  # what portal-serve wires
    yield w, db
    w.services.db.close()
    db.close()


def test_booking_stops_and_cancelling_resumes_the_reminder_sequence(
    rworld: tuple[World, Database],
) -> None:
    w, db = rworld
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
    later = w.clock.at + timedelta(days=400)  # ahead in real time too, so resume applies
    SqlReminderStore(db).enqueue(
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

    def statuses() -> list[str]:
        rows = db.query(
            "SELECT status FROM reminder_step WHERE subject_key = ? ORDER BY step",
            (device["id"],),
        )
        return [r[0] for r in rows]

    assert statuses() == ["pending", "pending"]
    booking = client.post(
        "/api/v1/bookings",
        headers=headers,
        json={"site_id": w.a.site.id, "day": "2026-03-04", "device_ids": [device["id"]]},
    ).json()
    assert statuses() == ["cancelled", "cancelled"]
    assert db.query("SELECT subject_key FROM reminder_conversion") == [(device["id"],)]
    client.delete(f"/api/v1/bookings/{booking['id']}", headers=headers)
    assert statuses() == ["pending", "pending"]
