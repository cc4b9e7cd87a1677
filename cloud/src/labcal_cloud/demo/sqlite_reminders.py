"""The scheduler's :class:`~labcal_cloud.scheduler.ports.ReminderStore` on the portal's SQL
gateway, for SQLite (the embedded default).

SQLite has no ``FOR UPDATE SKIP LOCKED``; ``claim`` is one ``UPDATE … RETURNING`` statement,
which SQLite runs under its single writer lock, so two workers still never hold the same step.
Times are stored as fixed-width UTC text so they compare correctly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from labcal_cloud.db.gateway import Database, utc_text
from labcal_cloud.scheduler.ports import ClaimedStep, NewStep

__all__ = ["SqliteReminderControl", "SqliteReminderStore", "utc_text"]

_COLUMNS = (
    "id, tenant, sequence, subject_key, step, recipient, channel, address, subject, body,"
    " variant, attempts"
)


class SqliteReminderStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def enqueue(self, steps: Sequence[NewStep]) -> int:
        """Store planned steps; a step already planned (same key) is left as it is."""
        added = 0
        with self._db.transaction():
            for s in steps:
                before = self._db.one("SELECT total_changes()")
                self._db.execute(
                    "INSERT OR IGNORE INTO reminder_step (tenant, sequence, subject_key, step,"
                    " recipient, channel, address, variant, subject, body, send_at,"
                    " next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        s.tenant,
                        s.sequence,
                        s.subject_key,
                        s.step,
                        s.recipient,
                        s.channel,
                        s.address,
                        s.variant,
                        s.subject,
                        s.body,
                        utc_text(s.send_at),
                        utc_text(s.send_at),
                    ),
                )
                after = self._db.one("SELECT total_changes()")
                added += int(after[0] if after else 0) - int(before[0] if before else 0)
        return added

    def claim(self, worker: str, now: datetime, limit: int, lease: timedelta) -> list[ClaimedStep]:
        rows = self._db.query(
            "UPDATE reminder_step SET status = 'sending', claimed_by = ?, claimed_at = ?,"
            " attempts = attempts + 1 WHERE id IN (SELECT id FROM reminder_step"
            " WHERE (status = 'pending' AND next_attempt_at <= ?)"
            " OR (status = 'sending' AND claimed_at <= ?)"
            " ORDER BY next_attempt_at, id LIMIT ?)"
            f" RETURNING {_COLUMNS}",
            (worker, utc_text(now), utc_text(now), utc_text(now - lease), limit),
        )
        return sorted((ClaimedStep(*r) for r in rows), key=lambda s: s.id)

    def _finish(self, worker: str, sql: str, args: tuple[object, ...]) -> bool:
        rows = self._db.query(
            sql + " AND claimed_by = ? AND status = 'sending' RETURNING id", (*args, worker)
        )
        return len(rows) == 1

    def mark_sent(self, step: ClaimedStep, worker: str, now: datetime) -> None:
        with self._db.transaction():
            if self._finish(
                worker,
                "UPDATE reminder_step SET status = 'sent', sent_at = ?, last_error = NULL"
                " WHERE id = ?",
                (utc_text(now), step.id),
            ):
                self._log(step, worker, now, "sent", "")

    def mark_failed(
        self, step: ClaimedStep, worker: str, now: datetime, error: str, retry_at: datetime | None
    ) -> None:
        status = "failed" if retry_at is None else "pending"
        with self._db.transaction():
            if self._finish(
                worker,
                "UPDATE reminder_step SET status = ?, last_error = ?,"
                " next_attempt_at = COALESCE(?, next_attempt_at) WHERE id = ?",
                (status, error[:1000], utc_text(retry_at) if retry_at else None, step.id),
            ):
                self._log(step, worker, now, "failed" if retry_at is None else "retry", error)

    def _log(
        self, step: ClaimedStep, worker: str, now: datetime, outcome: str, detail: str
    ) -> None:
        self._db.execute(
            "INSERT INTO reminder_delivery (step_id, attempt, worker, at, outcome, detail)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (step.id, step.attempt, worker, utc_text(now), outcome, detail[:1000]),
        )

    def cancel_subject(self, tenant: str, subject_key: str, reason: str) -> int:
        rows = self._db.query(
            "UPDATE reminder_step SET status = 'cancelled', cancel_reason = ?"
            " WHERE tenant = ? AND subject_key = ? AND status = 'pending' RETURNING id",
            (reason, tenant, subject_key),
        )
        return len(rows)

    def record_booking(
        self,
        tenant: str,
        subject_key: str,
        step_id: int | None,
        at: datetime,
        reason: str = "booked",
    ) -> None:
        """A booking: conversion (credited to the step's variant, else the last step sent's)
        and the pending steps cancelled with ``reason``."""
        with self._db.transaction():
            self._db.execute(
                "INSERT OR IGNORE INTO reminder_conversion"
                " (tenant, subject_key, step_id, variant, booked_at) VALUES (?, ?, ?, COALESCE("
                "(SELECT variant FROM reminder_step WHERE id = ?),"
                " (SELECT variant FROM reminder_step WHERE tenant = ? AND subject_key = ?"
                " AND status = 'sent' ORDER BY sent_at DESC LIMIT 1), ''), ?)",
                (tenant, subject_key, step_id, step_id, tenant, subject_key, utc_text(at)),
            )
            self.cancel_subject(tenant, subject_key, reason)

    def resume_subject(self, tenant: str, subject_key: str, now: datetime) -> int:
        """The booking was cancelled: steps stopped by it and still ahead are pending again."""
        rows = self._db.query(
            "UPDATE reminder_step SET status = 'pending', cancel_reason = NULL"
            " WHERE tenant = ? AND subject_key = ? AND status = 'cancelled'"
            " AND cancel_reason LIKE 'booked%' AND send_at >= ? RETURNING id",
            (tenant, subject_key, utc_text(now)),
        )
        return len(rows)

    def write_inbox(self, step: ClaimedStep, now: datetime) -> None:
        self._db.execute(
            "INSERT OR IGNORE INTO inbox_message"
            " (tenant, recipient, step_id, subject, body, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (step.tenant, step.recipient, step.id, step.subject, step.body, utc_text(now)),
        )


class SqliteReminderControl:
    """The booking side's ``ReminderControl`` port on this store: a booking stops the devices'
    sequences (and counts as a conversion); a cancelled booking resumes the steps ahead."""

    def __init__(self, store: SqliteReminderStore, now: Callable[[], datetime]) -> None:
        self._store, self._now = store, now

    def stop(self, tenant_id: str, device_ids: Sequence[str], reason: str) -> None:
        for device in device_ids:
            self._store.record_booking(
                tenant_id, device, None, self._now(), reason=f"booked: {reason}"
            )

    def resume(self, tenant_id: str, device_ids: Sequence[str]) -> None:
        for device in device_ids:
            self._store.resume_subject(tenant_id, device, self._now())
