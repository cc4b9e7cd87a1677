"""Booking: slots from capacity, site bundles, reminder links, reschedule, cancel, e-mail."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from labcal_cloud.booking.links import (
    BookingLink,
    LinkError,
    sign_booking_link,
    verify_booking_link,
)
from labcal_cloud.booking.smtp import SmtpMailer

from .engine_due import compute_due_states
from .helpers import PASSWORD, World, api_token, build_world, client_for, login


class RecordingReminders:
    """Fake of the scheduler's reminder control (a port), recording what the booking asked."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, tuple[str, ...]]] = []

    def stop(self, tenant_id: str, device_ids: Sequence[str], reason: str) -> None:
        self.calls.append(("stop", tenant_id, tuple(sorted(device_ids))))

    def resume(self, tenant_id: str, device_ids: Sequence[str]) -> None:
        self.calls.append(("resume", tenant_id, tuple(sorted(device_ids))))


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def bworld(
    tmp_path: Path, smtp: tuple[Inbox, int], signing_pair: tuple[Path, Path]
) -> Iterator[tuple[World, RecordingReminders, Inbox]]:
    inbox, port = smtp
    reminders = RecordingReminders()
    w = build_world(
        f"sqlite:///{tmp_path / 'b.db'}",
        reminders=reminders,
        mailer=SmtpMailer("127.0.0.1", port, "LabCal <noreply@labcal.test>"),
        link_secret="k" * 40,
    )
    padmin = api_token(w, w.provider_admin)
    r = client_for(w).post(
        "/api/v1/technicians",
        json={"name": "Tom", "weekdays": [0, 1, 2, 3, 4], "daily_slots": 1},
        headers=padmin,
    )
    assert r.status_code == 201
    yield w, reminders, inbox
    w.services.db.close()


def _devices(w: World, n: int, due: Sequence[datetime | None]) -> list[str]:
    client = client_for(w)
    ids = []
    for i in range(n):
        body = {"site_id": w.a.site.id, "serial": f"B-{i}", "make": "Acme", "model": "P100"}
        device_id = client.post(
            "/api/v1/devices", json=body, headers=api_token(w, w.a.admin)
        ).json()["id"]
        if due[i] is not None:
            w.services.registry.mark_calibrated(device_id, due[i], 365)  # type: ignore[arg-type]
        ids.append(device_id)
    compute_due_states(w)  # the engine's due states, which bundles and reminders follow
    return ids


def test_slots_follow_technician_capacity(bworld: tuple[World, RecordingReminders, Inbox]) -> None:
    w, _, _ = bworld
    client = client_for(w)
    headers = api_token(w, w.a.user)
    slots = client.get("/api/v1/slots?count=6", headers=headers).json()
    # today is Monday 2 March 2026: weekdays from tomorrow, no weekend
    assert [s["day"] for s in slots] == [
        "2026-03-03",
        "2026-03-04",
        "2026-03-05",
        "2026-03-06",
        "2026-03-09",
        "2026-03-10",
    ]
    ids = _devices(w, 1, [None])
    r = client.post(
        "/api/v1/bookings",
        json={"site_id": w.a.site.id, "day": "2026-03-03", "device_ids": ids},
        headers=headers,
    )
    assert r.status_code == 201
    assert client.get("/api/v1/slots?count=1", headers=headers).json()[0]["day"] == "2026-03-04"
    # the day is full for everybody
    other = (
        client_for(w)
        .post(
            "/api/v1/devices",
            headers=api_token(w, w.b.admin),
            json={"site_id": w.b.site.id, "serial": "X", "make": "Acme", "model": "P100"},
        )
        .json()["id"]
    )
    r = client.post(
        "/api/v1/bookings",
        json={"site_id": w.b.site.id, "day": "2026-03-03", "device_ids": [other]},
        headers=api_token(w, w.b.user),
    )
    assert r.status_code == 409
    assert "no free capacity" in r.json()["detail"]


def test_bundle_holds_site_devices_due_within_weeks(
    bworld: tuple[World, RecordingReminders, Inbox],
) -> None:
    w, _, _ = bworld
    ids = _devices(
        w,
        4,
        [
            datetime(2025, 3, 20, tzinfo=UTC),
            datetime(2025, 4, 20, tzinfo=UTC),
            datetime(2025, 12, 1, tzinfo=UTC),
            datetime(2025, 1, 1, tzinfo=UTC),
        ],
    )
    bundle = (
        client_for(w)
        .get(f"/api/v1/bundles?site_id={w.a.site.id}&weeks=8", headers=api_token(w, w.a.user))
        .json()
    )
    assert sorted(d["id"] for d in bundle) == sorted([ids[0], ids[1], ids[3]])


def test_book_from_reminder_link_stops_reminders_and_mails(
    bworld: tuple[World, RecordingReminders, Inbox],
) -> None:
    w, reminders, inbox = bworld
    ids = _devices(
        w,
        3,
        [
            datetime(2025, 3, 20, tzinfo=UTC),
            datetime(2025, 4, 1, tzinfo=UTC),
            datetime(2025, 12, 1, tzinfo=UTC),
        ],
    )
    link = (
        client_for(w)
        .post("/api/v1/booking-links", json={"device_id": ids[0]}, headers=api_token(w, w.planner))
        .json()["url"]
    )
    path = link.removeprefix("http://portal.test")
    client = client_for(w)
    page = client.get(path, follow_redirects=False)
    assert page.status_code == 303  # log in first, then back to the link
    page = client.post("/login", data={"email": w.a.user.email, "password": PASSWORD, "next": path})
    assert "Book calibration at A Main building" in page.text
    checked = re.findall(r'name="device_ids" value="(\w+)"[^>]*checked', page.text)
    assert sorted(checked) == sorted(ids[:2])  # the bundle: both devices due within 8 weeks
    form = {
        "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1),  # type: ignore[union-attr]
        "site_id": w.a.site.id,
        "day": "2026-03-04",
        "device_ids": checked,
        "pickup": "1",
    }
    done = client.post("/bookings", data=form)
    assert "Booking confirmed." in done.text
    assert "pickup" in done.text
    assert reminders.calls == [("stop", w.a.tenant.id, tuple(sorted(ids[:2])))]
    assert len(inbox.messages) == 1
    mail = inbox.messages[0]
    assert mail["To"] == w.a.user.email
    assert mail["Subject"] == "LabCal booking confirmed: 2026-03-04"
    assert "We pick the devices up" in mail.get_payload()  # type: ignore[operator]
    # booking the same device twice is refused
    again = client.post("/bookings", data={**form, "day": "2026-03-05"})
    assert again.status_code == 409


def test_reschedule_and_cancel(bworld: tuple[World, RecordingReminders, Inbox]) -> None:
    w, reminders, inbox = bworld
    ids = _devices(w, 1, [None])
    client = client_for(w)
    headers = api_token(w, w.a.admin)
    b = client.post(
        "/api/v1/bookings",
        json={"site_id": w.a.site.id, "day": "2026-03-03", "device_ids": ids},
        headers=headers,
    ).json()
    moved = client.put(f"/api/v1/bookings/{b['id']}", json={"day": "2026-03-10"}, headers=headers)
    assert moved.json()["day"] == "2026-03-10"
    assert client.get("/api/v1/slots?count=1", headers=headers).json()[0]["day"] == "2026-03-03"
    assert (
        client.put(
            f"/api/v1/bookings/{b['id']}", json={"day": "2026-03-01"}, headers=headers
        ).status_code
        == 422
    )
    cancelled = client.delete(f"/api/v1/bookings/{b['id']}", headers=headers)
    assert cancelled.json()["status"] == "cancelled"
    assert client.delete(f"/api/v1/bookings/{b['id']}", headers=headers).status_code == 409
    assert [c[0] for c in reminders.calls] == ["stop", "resume"]
    assert [m["Subject"].split(":")[0] for m in inbox.messages] == [
        "LabCal booking confirmed",
        "LabCal booking rescheduled",
        "LabCal booking cancelled",
    ]


def test_booking_links_refuse_forgery_expiry_and_other_tenants(
    bworld: tuple[World, RecordingReminders, Inbox],
) -> None:
    secret = b"s" * 32
    token = sign_booking_link(secret, BookingLink("t1", "d1", date(2026, 3, 31)))
    assert verify_booking_link(secret, token, date(2026, 3, 2)).device_id == "d1"
    with pytest.raises(LinkError, match="expired"):
        verify_booking_link(secret, token, date(2026, 4, 1))
    with pytest.raises(LinkError, match="not valid"):
        verify_booking_link(secret, token.replace("d1", "d2"), date(2026, 3, 2))
    with pytest.raises(LinkError, match="not valid"):
        verify_booking_link(b"x" * 32, token, date(2026, 3, 2))
    w, _, _ = bworld
    ids = _devices(w, 1, [None])
    link = (
        client_for(w)
        .post("/api/v1/booking-links", json={"device_id": ids[0]}, headers=api_token(w, w.planner))
        .json()["url"]
    )
    other = client_for(w)
    login(other, w.b.user)
    assert other.get(link.removeprefix("http://portal.test")).status_code == 404
