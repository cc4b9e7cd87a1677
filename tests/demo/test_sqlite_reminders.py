"""The scheduler's reminder store on SQLite: planned once, claimed once, delivered once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from labcal_cloud.db.gateway import Database, connect
from labcal_cloud.demo.sqlite_reminders import SqliteReminderControl, SqliteReminderStore, utc_text
from labcal_cloud.scheduler.channels import InboxSender
from labcal_cloud.scheduler.ports import NewStep
from labcal_cloud.scheduler.runner import run_pass
from labcal_cloud.storage.factory import open_store

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    store = open_store(url)
    store.migrate()
    store.close()
    database = connect(url)
    yield database
    database.close()


def _step(step: str, at: datetime, channel: str = "inbox") -> NewStep:
    return NewStep("t1", "due", "dev1", step, "u1", channel, "qa@lab", f"{step} subject", "b", at)


def test_enqueue_keeps_a_planned_step_once(db: Database) -> None:
    store = SqliteReminderStore(db)
    steps = [_step("initial", NOW), _step("follow_up", NOW + timedelta(days=16))]
    assert store.enqueue(steps) == 2
    assert store.enqueue(steps) == 0
    assert db.one("SELECT count(*) FROM reminder_step") == (2,)


def test_two_workers_never_claim_the_same_step_and_future_steps_wait(db: Database) -> None:
    a, b = SqliteReminderStore(db), SqliteReminderStore(db)
    a.enqueue([_step("initial", NOW - timedelta(hours=1)), _step("later", NOW + timedelta(days=1))])
    first = a.claim("w1", NOW, 10, timedelta(minutes=10))
    assert [s.step for s in first] == ["initial"]
    assert first[0].attempt == 1
    assert b.claim("w2", NOW, 10, timedelta(minutes=10)) == []
    # a crashed worker's claim is taken over after the lease
    taken = b.claim("w2", NOW + timedelta(minutes=11), 10, timedelta(minutes=10))
    assert [(s.step, s.attempt) for s in taken] == [("initial", 2)]
    a.mark_sent(first[0], "w1", NOW)  # the old claim no longer holds: nothing recorded
    assert db.one("SELECT count(*) FROM reminder_delivery") == (0,)


def test_run_pass_delivers_to_the_inbox_once_and_logs_the_delivery(db: Database) -> None:
    store = SqliteReminderStore(db)
    store.enqueue([_step("initial", NOW - timedelta(minutes=1)), _step("sms", NOW, "sms")])
    senders = {"inbox": InboxSender(store, lambda: NOW)}
    result = run_pass(store, senders, worker="w", now=lambda: NOW)
    assert (result.claimed, result.sent, result.failed) == (2, 1, 1)  # no sms sender: failed
    again = run_pass(store, senders, worker="w", now=lambda: NOW + timedelta(hours=1))
    assert again.claimed == 0
    assert db.query("SELECT recipient, subject FROM inbox_message") == [("u1", "initial subject")]
    outcomes = sorted(r[0] for r in db.query("SELECT outcome FROM reminder_delivery"))
    assert outcomes == ["failed", "sent"]
    assert db.one("SELECT sent_at FROM reminder_step WHERE channel = 'inbox'") == (utc_text(NOW),)


def test_a_booking_cancels_pending_steps_and_counts_the_conversion(db: Database) -> None:
    store = SqliteReminderStore(db)
    store.enqueue(
        [_step("initial", NOW + timedelta(days=1)), _step("last", NOW + timedelta(days=9))]
    )
    store.record_booking("t1", "dev1", None, NOW)
    assert db.query("SELECT DISTINCT status, cancel_reason FROM reminder_step") == [
        ("cancelled", "booked")
    ]
    assert db.one("SELECT count(*) FROM reminder_conversion") == (1,)
    assert store.cancel_subject("t1", "dev1", "again") == 0


def test_control_stops_on_booking_and_resumes_the_steps_ahead_on_cancel(db: Database) -> None:
    store = SqliteReminderStore(db)
    store.enqueue(
        [_step("initial", NOW - timedelta(days=1)), _step("later", NOW + timedelta(days=5))]
    )
    run_pass(store, {"inbox": InboxSender(store, lambda: NOW)}, worker="w", now=lambda: NOW)
    control = SqliteReminderControl(store, lambda: NOW)
    control.stop("t1", ["dev1"], "booking 42")
    rows = db.query("SELECT step, status, cancel_reason FROM reminder_step ORDER BY id")
    assert rows == [("initial", "sent", None), ("later", "cancelled", "booked: booking 42")]
    assert db.one("SELECT count(*) FROM reminder_conversion") == (1,)
    control.resume("t1", ["dev1"])
    assert db.one("SELECT status FROM reminder_step WHERE step = 'later'") == ("pending",)
