"""The scheduler's one reminder store (``SqlReminderStore``) against real SQLite and real
PostgreSQL (every test runs on both, ``store_url``), with a real SMTP server (aiosmtpd):
planned once, claimed once across workers and processes, delivered once, every attempt logged."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from labcal_cloud.booking.ports import ReminderControl
from labcal_cloud.db.gateway import Database, connect
from labcal_cloud.notify.steps import NewStep
from labcal_cloud.scheduler.channels import EmailSender, InboxSender, message_id
from labcal_cloud.scheduler.ports import Sender
from labcal_cloud.scheduler.reminder_control import SqlReminderControl
from labcal_cloud.scheduler.reminder_store import SqlReminderStore
from labcal_cloud.scheduler.runner import run_pass

from .smtp_server import Recorder, smtp_server

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
LEASE = timedelta(minutes=10)


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def db(store_url: str) -> Iterator[Database]:
    database = connect(store_url)
    yield database
    database.close()


@pytest.fixture
def store(db: Database) -> SqlReminderStore:
    return SqlReminderStore(db)


@pytest.fixture
def smtp() -> Iterator[tuple[Recorder, int]]:
    with smtp_server() as server:
        yield server


def step(
    i: int, *, send_at: datetime, channel: str = "email", address: str = "", name: str = "initial"
) -> NewStep:
    return NewStep(
        tenant="t1",
        sequence="due",
        subject_key=f"dev-{i}",
        step=name,
        recipient=f"user-{i}",
        channel=channel,
        address=address or f"user{i}@lab.test",
        subject=f"Calibration of P100 S{i} due",
        body="due in 30 days: 365-day interval",
        send_at=send_at,
    )


def rows(db: Database, sql: str) -> list[tuple[Any, ...]]:
    return db.query(sql)


def test_a_planned_step_is_stored_once(store: SqlReminderStore, db: Database) -> None:
    steps = [step(1, send_at=T0), step(1, send_at=T0 + timedelta(days=16), name="follow_up")]
    assert store.enqueue(steps) == 2
    assert store.enqueue(steps) == 0
    assert store.enqueue([*steps, step(2, send_at=T0)]) == 1
    assert rows(db, "SELECT count(*) FROM reminder_step") == [(3,)]


def test_two_scheduler_processes_never_send_a_step_twice(
    store_url: str, store: SqlReminderStore, db: Database, smtp: tuple[Recorder, int]
) -> None:
    recorder, port = smtp
    now = datetime.now(UTC)
    assert store.enqueue([step(i, send_at=now - timedelta(minutes=1)) for i in range(120)]) == 120
    assert store.enqueue([step(0, send_at=now)]) == 0  # planned twice → stored once
    cmd = [sys.executable, "-m", "labcal_cloud.cli", "--database-url", store_url]
    opts = ["--smtp-host", "127.0.0.1", "--smtp-port", str(port), "--batch", "3", "--until-idle"]
    procs = [
        subprocess.Popen(
            [*cmd, "scheduler", "run", "--worker", name, *opts],
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
    assert len(ids) == 120
    assert len(set(ids)) == 120
    assert rows(db, "SELECT status, count(*) FROM reminder_step GROUP BY status") == [("sent", 120)]
    deliveries = rows(db, "SELECT step_id, outcome FROM reminder_delivery")
    assert len(deliveries) == 120
    assert {o for _, o in deliveries} == {"sent"}
    workers = dict(rows(db, "SELECT claimed_by, count(*) FROM reminder_step GROUP BY claimed_by"))
    assert set(workers) <= {"w1", "w2"}
    printed = sum(int(out.decode().split(":")[1].split()[0]) for out, _ in outputs)
    assert printed == 120


def test_two_workers_claiming_at_once_never_hold_the_same_step(store_url: str) -> None:
    """Two workers, each on its own connection (pool), claim in parallel threads."""
    import threading

    seed = connect(store_url)
    try:
        SqlReminderStore(seed).enqueue([step(i, send_at=T0) for i in range(200)])
    finally:
        seed.close()
    held: dict[str, list[int]] = {"w1": [], "w2": []}
    start = threading.Barrier(2)

    def work(name: str) -> None:
        own = connect(store_url)
        try:
            worker = SqlReminderStore(own)
            start.wait()
            while claimed := worker.claim(name, T0, 7, LEASE):
                held[name] += [s.id for s in claimed]
        finally:
            own.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in held]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not set(held["w1"]) & set(held["w2"])
    assert len(held["w1"]) + len(held["w2"]) == 200


def test_temporary_refusal_is_retried_and_logged(
    store: SqlReminderStore, db: Database, smtp: tuple[Recorder, int]
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
    (sent_at,) = db.one("SELECT sent_at FROM reminder_step WHERE id = 1") or (None,)
    assert Database.read_at(sent_at) == clock.at


def test_booking_stops_the_sequence_and_counts_the_conversion(
    store: SqlReminderStore, db: Database
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
    assert store.claim("w1", T0 + timedelta(days=30), 10, LEASE) == []
    assert store.cancel_subject("t1", "dev-7", "again") == 0  # nothing pending any more


def test_a_crashed_workers_claim_is_taken_over_after_the_lease(
    store: SqlReminderStore, db: Database
) -> None:
    store.enqueue([step(1, send_at=T0), step(2, send_at=T0 + timedelta(days=1))])
    (held,) = store.claim("w1", T0, 10, LEASE)  # the future step waits
    assert held.attempt == 1
    assert store.claim("w2", T0 + timedelta(minutes=5), 10, LEASE) == []
    (taken,) = store.claim("w2", T0 + timedelta(minutes=11), 10, LEASE)
    assert (taken.id, taken.attempt) == (held.id, 2)
    assert message_id(taken) == message_id(held)
    store.mark_sent(held, "w1", T0 + timedelta(minutes=12))  # late finish of w1: ignored
    assert rows(db, "SELECT count(*) FROM reminder_delivery") == [(0,)]
    store.mark_sent(taken, "w2", T0 + timedelta(minutes=12))
    assert rows(db, "SELECT step_id, attempt, worker FROM reminder_delivery") == [
        (held.id, 2, "w2")
    ]


def test_inbox_channel_writes_one_portal_message(store: SqlReminderStore, db: Database) -> None:
    store.enqueue([step(1, send_at=T0, channel="inbox", address="user-1")])
    clock = Clock(T0)
    inbox = InboxSender(store, clock)
    result = run_pass(store, {"inbox": inbox}, worker="w1", now=clock)
    assert result.sent == 1
    (claimed,) = store.claim("w2", T0 + timedelta(hours=1), 1, timedelta(0)) or [None]
    assert claimed is None  # sent: never claimed again
    assert rows(db, "SELECT recipient, subject FROM inbox_message") == [
        ("user-1", "Calibration of P100 S1 due")
    ]


def test_inbox_write_is_idempotent_per_step(store: SqlReminderStore, db: Database) -> None:
    store.enqueue([step(1, send_at=T0, channel="inbox", address="user-1")])
    (claimed,) = store.claim("w1", T0, 1, LEASE)
    store.write_inbox(claimed, T0)
    store.write_inbox(claimed, T0 + timedelta(minutes=1))  # a repeat after a crash
    assert rows(db, "SELECT count(*) FROM inbox_message") == [(1,)]


def test_unknown_channel_fails_for_good(store: SqlReminderStore, db: Database) -> None:
    store.enqueue([step(1, send_at=T0, channel="pager")])
    result = run_pass(store, {}, worker="w1", now=Clock(T0))
    assert result.failed == 1
    assert rows(db, "SELECT status FROM reminder_step") == [("failed",)]


def test_booking_control_stops_and_resumes_ahead_steps(
    store: SqlReminderStore, db: Database
) -> None:
    store.enqueue([step(3, send_at=T0 - timedelta(days=1))])
    store.enqueue([step(3, send_at=T0 + timedelta(days=10), name="follow_up")])
    clock = Clock(T0)
    control: ReminderControl = SqlReminderControl(store, clock)
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


def test_a_step_stopped_by_a_booking_is_revived_at_its_new_time(
    store: SqlReminderStore, db: Database
) -> None:
    planned = step(4, send_at=T0)
    store.enqueue([planned, step(5, send_at=T0)])
    store.cancel_subject("t1", "dev-5", "no longer due")
    store.record_booking("t1", "dev-4", None, T0)
    later = T0 + timedelta(days=20)
    revived = [
        NewStep(**{**{f: getattr(planned, f) for f in planned.__slots__}, "send_at": later}),
        NewStep(**{**{f: getattr(planned, f) for f in planned.__slots__}, "subject_key": "dev-5"}),
    ]
    assert store.revive_booked(revived) == 1  # dev-5 was not stopped by a booking
    assert store.claim("w1", later - timedelta(minutes=1), 10, LEASE) == []
    (claimed,) = store.claim("w1", later, 10, LEASE)
    assert claimed.subject_key == "dev-4"


def test_ab_conversion_report(store: SqlReminderStore) -> None:
    steps = [
        NewStep(
            "t1", "due", f"dev-{i}", "initial", f"u{i}", "inbox", f"u{i}", "s", "b", T0,
            "A" if i % 2 else "B",
        )
        for i in range(6)
    ]  # fmt: skip
    store.enqueue(steps)
    clock = Clock(T0)
    run_pass(store, {"inbox": InboxSender(store, clock)}, worker="w1", now=clock)
    store.record_booking("t1", "dev-1", None, T0 + timedelta(days=2))  # variant A
    store.record_booking("t1", "dev-3", None, T0 + timedelta(days=3))  # variant A
    store.record_booking("t1", "dev-0", None, T0 - timedelta(days=1))  # before any reminder
    report = {s.variant: (s.sent, s.converted) for s in store.variant_report("t1", "due")}
    assert report == {"A": (3, 2), "B": (3, 0)}
