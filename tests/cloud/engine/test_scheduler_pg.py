"""Scheduler against real PostgreSQL and a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from labcal_cloud.scheduler.channels import EmailSender, InboxSender, message_id
from labcal_cloud.scheduler.pg_store import PostgresReminderStore
from labcal_cloud.scheduler.ports import NewStep, Sender
from labcal_cloud.scheduler.runner import run_pass
from labcal_cloud.storage.factory import open_store

from .smtp_server import Recorder, smtp_server

pytestmark = pytest.mark.postgres

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def db(fresh_database_url: str) -> str:
    store = open_store(fresh_database_url)
    try:
        store.migrate()
    finally:
        store.close()
    return fresh_database_url


@pytest.fixture
def store(db: str) -> Iterator[PostgresReminderStore]:
    s = PostgresReminderStore(db)
    yield s
    s.close()


@pytest.fixture
def smtp() -> Iterator[tuple[Recorder, int]]:
    with smtp_server() as server:
        yield server


def step(i: int, *, send_at: datetime, channel: str = "email", address: str = "") -> NewStep:
    return NewStep(
        tenant="t1",
        sequence="due",
        subject_key=f"dev-{i}",
        step="initial",
        recipient=f"user-{i}",
        channel=channel,
        address=address or f"user{i}@lab.test",
        subject=f"Calibration of P100 S{i} due",
        body="due in 30 days: 365-day interval",
        send_at=send_at,
    )


def rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


def test_two_scheduler_processes_never_send_a_step_twice(
    db: str, store: PostgresReminderStore, smtp: tuple[Recorder, int]
) -> None:
    recorder, port = smtp
    now = datetime.now(UTC)
    assert store.enqueue([step(i, send_at=now - timedelta(minutes=1)) for i in range(240)]) == 240
    assert store.enqueue([step(0, send_at=now)]) == 0  # planned twice → stored once
    cmd = [sys.executable, "-m", "labcal_cloud.cli", "--database-url", db, "scheduler", "run"]
    opts = ["--smtp-host", "127.0.0.1", "--smtp-port", str(port), "--batch", "3", "--until-idle"]
    procs = [
        subprocess.Popen(
            [*cmd, "--worker", name, *opts],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=os.environ.copy(),
        )
        for name in ("w1", "w2")
    ]
    outputs = [p.communicate(timeout=150) for p in procs]
    for p, (_out, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err.decode()
    ids = recorder.ids()
    assert len(ids) == 240
    assert len(set(ids)) == 240
    assert rows(db, "SELECT status, count(*) FROM reminder_step GROUP BY status") == [("sent", 240)]
    deliveries = rows(db, "SELECT step_id, outcome FROM reminder_delivery")
    assert len(deliveries) == 240
    assert {o for _, o in deliveries} == {"sent"}
    workers = dict(rows(db, "SELECT claimed_by, count(*) FROM reminder_step GROUP BY 1"))
    assert set(workers) <= {"w1", "w2"}
    printed = sum(int(out.decode().split(":")[1].split()[0]) for out, _ in outputs)
    assert printed == 240


def test_temporary_refusal_is_retried_and_logged(
    db: str, store: PostgresReminderStore, smtp: tuple[Recorder, int]
) -> None:
    recorder, port = smtp
    recorder.refuse["flaky@lab.test"] = ["451 4.3.0 try again later"]
    recorder.refuse["gone@lab.test"] = ["550 5.1.1 no such user"]
    store.enqueue(
        [
            step(1, send_at=T0, address="flaky@lab.test"),
            step(2, send_at=T0, address="gone@lab.test"),
        ]
    )
    clock = Clock(T0)
    email = EmailSender("127.0.0.1", port, "lc@x.test", clock)
    senders: dict[str, Sender] = {"email": email}
    first = run_pass(store, senders, worker="w1", now=clock)
    assert (first.claimed, first.sent, first.retried, first.failed) == (2, 0, 1, 1)
    again = run_pass(store, senders, worker="w1", now=clock)
    assert again.claimed == 0  # the retry waits for its backoff
    clock.at = T0 + timedelta(minutes=2)
    second = run_pass(store, senders, worker="w1", now=clock)
    assert (second.claimed, second.sent) == (1, 1)
    email.close()
    assert recorder.ids() == ["<reminder-1@labcal>"]
    log = rows(db, "SELECT step_id, attempt, outcome FROM reminder_delivery ORDER BY id")
    assert log == [(1, 1, "retry"), (2, 1, "failed"), (1, 2, "sent")]
    errors = dict(rows(db, "SELECT id, last_error FROM reminder_step"))
    assert "550" in errors[2]


def test_booking_stops_the_sequence_and_counts_the_conversion(
    db: str, store: PostgresReminderStore
) -> None:
    later = [
        NewStep("t1", "due", "dev-7", s, "u1", "email", "u1@x.test", "s", "b", T0 + d, "B")
        for s, d in (
            ("initial", timedelta(0)),
            ("follow_up", timedelta(days=14)),
            ("last_notice", timedelta(days=27)),
        )
    ]
    store.enqueue(later)
    first_id = rows(db, "SELECT min(id) FROM reminder_step")[0][0]
    store.record_booking("t1", "dev-7", first_id, T0 + timedelta(days=1))
    assert rows(db, "SELECT DISTINCT status, cancel_reason FROM reminder_step") == [
        ("cancelled", "booked")
    ]
    assert rows(db, "SELECT subject_key, variant FROM reminder_conversion") == [("dev-7", "B")]
    assert store.claim("w1", T0 + timedelta(days=30), 10, timedelta(minutes=10)) == []


def test_a_crashed_workers_claim_is_taken_over_after_the_lease(
    store: PostgresReminderStore,
) -> None:
    store.enqueue([step(1, send_at=T0)])
    lease = timedelta(minutes=10)
    (held,) = store.claim("w1", T0, 10, lease)
    assert store.claim("w2", T0 + timedelta(minutes=5), 10, lease) == []
    (taken,) = store.claim("w2", T0 + timedelta(minutes=11), 10, lease)
    assert (taken.id, taken.attempt) == (held.id, 2)
    assert message_id(taken) == message_id(held)
    store.mark_sent(held, "w1", T0 + timedelta(minutes=12))  # late finish of w1: ignored
    store.mark_sent(taken, "w2", T0 + timedelta(minutes=12))


def test_inbox_channel_writes_one_portal_message(db: str, store: PostgresReminderStore) -> None:
    store.enqueue([step(1, send_at=T0, channel="inbox", address="user-1")])
    clock = Clock(T0)
    result = run_pass(store, {"inbox": InboxSender(store, clock)}, worker="w1", now=clock)
    assert result.sent == 1
    assert rows(db, "SELECT recipient, subject FROM inbox_message") == [
        ("user-1", "Calibration of P100 S1 due")
    ]


def test_unknown_channel_fails_for_good(db: str, store: PostgresReminderStore) -> None:
    store.enqueue([step(1, send_at=T0, channel="pager")])
    result = run_pass(store, {}, worker="w1", now=Clock(T0))
    assert result.failed == 1
    assert rows(db, "SELECT status FROM reminder_step") == [("failed",)]


def test_booking_control_stops_and_resumes_ahead_steps(
    db: str, store: PostgresReminderStore
) -> None:
    from labcal_cloud.booking.ports import ReminderControl
    from labcal_cloud.scheduler.reminder_control import PostgresReminderControl

    store.enqueue([step(3, send_at=T0 - timedelta(days=1)), step(3, send_at=T0)])
    store.enqueue(
        [
            NewStep(
                "t1",
                "due",
                "dev-3",
                "follow_up",
                "user-3",
                "email",
                "a@x",
                "s",
                "b",
                T0 + timedelta(days=10),
            )
        ]
    )
    clock = Clock(T0)
    control: ReminderControl = PostgresReminderControl(store, clock)
    control.stop("t1", ["dev-3"], "booking 17")
    assert rows(db, "SELECT DISTINCT status, cancel_reason FROM reminder_step") == [
        ("cancelled", "booked: booking 17")
    ]
    assert rows(db, "SELECT count(*) FROM reminder_conversion") == [(1,)]
    control.resume("t1", ["dev-3"])
    assert rows(db, "SELECT step, status FROM reminder_step ORDER BY id") == [
        ("initial", "cancelled"),
        ("follow_up", "pending"),
    ]


def test_ab_conversion_report(db: str, store: PostgresReminderStore) -> None:
    steps = [
        NewStep(
            "t1",
            "due",
            f"dev-{i}",
            "initial",
            f"u{i}",
            "inbox",
            f"u{i}",
            "s",
            "b",
            T0,
            "A" if i % 2 else "B",
        )
        for i in range(6)
    ]
    store.enqueue(steps)
    clock = Clock(T0)
    run_pass(store, {"inbox": InboxSender(store, clock)}, worker="w1", now=clock)
    store.record_booking("t1", "dev-1", None, T0 + timedelta(days=2))  # variant A
    store.record_booking("t1", "dev-3", None, T0 + timedelta(days=3))  # variant A
    store.record_booking("t1", "dev-0", None, T0 - timedelta(days=1))  # before any reminder
    report = {s.variant: (s.sent, s.converted) for s in store.variant_report("t1", "due")}
    assert report == {"A": (3, 2), "B": (3, 0)}
