"""Reminders as messages: the text is restated from the due state when delivered, the inbox shows
a card with a real button, the e-mail has a text and an HTML part (a real SMTP server, aiosmtpd)
— on SQLite and PostgreSQL."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from labcal_cloud.engine.due import DueStatus
from labcal_cloud.notify.messages import Message, message_parts, render_due_step
from labcal_cloud.notify.restate import due_headline, restate_due_step
from labcal_cloud.notify.steps import NewStep
from labcal_cloud.registry.store import OrderItem
from labcal_cloud.scheduler.channels import EmailSender, InboxSender
from labcal_cloud.scheduler.ports import Sender
from labcal_cloud.scheduler.reminder_store import SqlReminderStore
from labcal_cloud.scheduler.restate import DueRestater
from labcal_cloud.scheduler.runner import run_pass

from .engine_due import compute_due_states
from .helpers import World, client_for, login

URL = "http://portal.test/book?token=abc.def"


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_world(request: pytest.FixtureRequest) -> World:
    world: World = request.getfixturevalue("world" if request.param == "sqlite" else "pg_world")
    return world


def _planned_overdue(w: World, device_id: str, channel: str, address: str) -> NewStep:
    """The step as the planner made it weeks ago, when the device was overdue."""
    text = render_due_step(
        "overdue_escalation",
        model="P100",
        serial="R-1",
        due_date="2026-02-02",
        reason="overdue by 28 days: 365-day interval since the calibration on 2025-02-02",
        booking_url=URL,
    )
    return NewStep(
        tenant=w.a.tenant.id,
        sequence="due",
        subject_key=device_id,
        step="overdue_escalation@2025-02-02",
        recipient=w.a.admin.id,
        channel=channel,
        address=address,
        subject=text.subject,
        body=text.body,
        send_at=w.clock() - timedelta(hours=1),
    )


def test_overdue_plan_now_due_in_five_weeks_is_delivered_as_due_in_35_days(
    any_world: World, mailbox: tuple[Mailbox, int]
) -> None:
    w = any_world
    box, port = mailbox
    device = w.services.registry.add(w.a.tenant.id, w.a.site.id, OrderItem("Acme", "P100", "R-1"))
    # recalibrated since: due on 2026-04-06, 35 days after the world's clock (2026-03-02)
    w.services.registry.mark_calibrated(device.id, datetime(2025, 4, 6, tzinfo=UTC), 365)
    compute_due_states(w)
    store = SqlReminderStore(w.services.db)
    store.enqueue(
        [
            _planned_overdue(w, device.id, "inbox", w.a.admin.id),
            _planned_overdue(w, device.id, "email", w.a.admin.email),
        ]
    )
    email = EmailSender("127.0.0.1", port, "LabCal <r@labcal.test>", w.clock)
    senders: dict[str, Sender] = {"inbox": InboxSender(store, w.clock), "email": email}
    result = run_pass(store, senders, worker="w1", now=w.clock, restate=DueRestater(w.services.db))
    email.close()
    assert (result.claimed, result.sent) == (2, 2)

    stored = w.services.db.query("SELECT subject, body FROM reminder_step ORDER BY id")
    for subject, body in stored:  # the step records what was sent
        assert subject == "Calibration of P100 R-1 due on 2026-04-06"
        assert body.startswith("P100 R-1: due in 35 days: 365-day interval since the calibration")
        assert URL in body
        assert "overdue" not in body.lower()

    # the inbox: a card with the subject, a readable time and the call to action as a button
    client = client_for(w)
    login(client, w.a.admin)
    page = client.get("/inbox").text
    assert "Calibration of P100 R-1 due on 2026-04-06" in page
    assert f'<a class="button" href="{URL}">Book calibration</a>' in page
    assert "<pre" not in page
    assert "Mon 2 Mar 2026, 09:00 UTC" in page
    assert "just now" in page

    # the e-mail: text and HTML alternatives of the same message
    (mail,) = box.messages
    assert mail.get_content_type() == "multipart/alternative"
    text = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert text is not None
    assert html is not None
    assert "due in 35 days" in text.get_content()
    assert URL in text.get_content()
    html_text = html.get_content()
    assert f'<a href="{URL.replace("&", "&amp;")}"' in html_text
    assert ">Book calibration</a>" in html_text
    assert "due in 35 days" in html_text


def test_a_device_still_overdue_stays_overdue_with_todays_count(any_world: World) -> None:
    w = any_world
    device = w.services.registry.add(w.a.tenant.id, w.a.site.id, OrderItem("Acme", "P100", "R-1"))
    w.services.registry.mark_calibrated(device.id, datetime(2025, 2, 2, tzinfo=UTC), 365)
    compute_due_states(w)
    store = SqlReminderStore(w.services.db)
    store.enqueue([_planned_overdue(w, device.id, "inbox", w.a.admin.id)])
    run_pass(
        store,
        {"inbox": InboxSender(store, w.clock)},
        worker="w1",
        now=w.clock,
        restate=DueRestater(w.services.db),
    )
    subject, body = w.services.db.one("SELECT subject, body FROM inbox_message") or ("", "")
    assert subject == "Overdue: P100 R-1 was due on 2026-02-02"
    assert body.startswith("P100 R-1: overdue by 28 days:")


@pytest.mark.parametrize(
    ("status", "due", "words"),
    [
        (DueStatus.DUE_SOON, datetime(2026, 3, 3, tzinfo=UTC), "due in 1 day"),
        (DueStatus.DUE_SOON, datetime(2026, 3, 2, 23, tzinfo=UTC), "due today"),
        (DueStatus.DUE, datetime(2026, 2, 27, tzinfo=UTC), "due 3 days ago"),
        (DueStatus.OVERDUE, datetime(2026, 2, 1, tzinfo=UTC), "overdue by 29 days"),
    ],
)
def test_due_headline_counts_days_from_delivery(
    status: DueStatus, due: datetime, words: str
) -> None:
    assert due_headline(status, due, datetime(2026, 3, 2, 9, tzinfo=UTC)) == words


def test_variant_subject_is_kept_unless_it_says_overdue_wrongly() -> None:
    planned = Message(
        "Don't miss it: P100 R-1", f"old text\n\nBook its calibration in one click:\n{URL}"
    )
    args: dict[str, Any] = {
        "model": "P100",
        "serial": "R-1",
        "due_at": datetime(2026, 4, 6, tzinfo=UTC),
        "reason": "due in 60 days: 365-day interval",
        "now": datetime(2026, 3, 2, tzinfo=UTC),
        "variant_subject": True,
    }
    kept = restate_due_step("initial@x", planned, status=DueStatus.DUE_SOON, **args)
    assert kept.subject == planned.subject
    assert message_parts(kept.body).action_url == URL
    wrong = Message("Overdue! P100 R-1", planned.body)
    fixed = restate_due_step("initial@x", wrong, status=DueStatus.DUE_SOON, **args)
    assert fixed.subject == "Calibration of P100 R-1 due on 2026-04-06"
