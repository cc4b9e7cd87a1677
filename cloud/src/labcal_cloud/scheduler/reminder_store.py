"""The scheduler's reminder store on the SQL gateway, one adapter for SQLite and PostgreSQL.

``claim`` is one statement on both backends: a CTE picks the due steps (on PostgreSQL with
``FOR UPDATE SKIP LOCKED``, ``db.skip_locked``) and the ``UPDATE … RETURNING`` marks them
``sending`` by this worker. SQLite runs that statement under its single writer lock, so two
workers never hold the same step there either. A step left in ``sending`` by a crashed worker is
taken again after the lease; its e-mail keeps the same Message-ID (``<reminder-{id}@labcal>``),
so a receiver can recognise the repeat. Only the worker holding a claim can finish it, and each
finish is logged in ``reminder_delivery``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from labcal_cloud.db.gateway import Database
from labcal_cloud.notify.experiments import VariantStats, conversion_by_variant
from labcal_cloud.notify.steps import NewStep
from labcal_cloud.scheduler.ports import ClaimedStep

__all__ = ["BOOKED", "SqlReminderStore"]

BOOKED = "booked"
"""The cancel reason of steps a booking stopped (``booked`` or ``booked: <why>``)."""

_COLUMNS = (
    "id, tenant, sequence, subject_key, step, recipient, channel, address, subject, body,"
    " variant, attempts"
)
_CLAIM = """
WITH due AS (
    SELECT id FROM reminder_step
    WHERE (status = 'pending' AND next_attempt_at <= ?)
       OR (status = 'sending' AND claimed_at <= ?)
    ORDER BY next_attempt_at, id
    LIMIT ?{skip_locked}
)
UPDATE reminder_step
SET status = 'sending', claimed_by = ?, claimed_at = ?, attempts = attempts + 1
WHERE id IN (SELECT id FROM due)
RETURNING {columns}
"""
_INSERT = (
    "INSERT INTO reminder_step (tenant, sequence, subject_key, step, recipient, channel,"
    " address, variant, subject, body, send_at, next_attempt_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
)
_CANCEL = (
    "UPDATE reminder_step SET status = 'cancelled', cancel_reason = ?"
    " WHERE tenant = ? AND subject_key = ? AND status = 'pending'"
)


class SqlReminderStore:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._claim = _CLAIM.format(skip_locked=db.skip_locked, columns=_COLUMNS)

    @property
    def db(self) -> Database:
        return self._db

    def enqueue(self, steps: Sequence[NewStep]) -> int:
        """Store planned steps; a step already planned (same key) is left as it is."""
        added = 0
        with self._db.transaction():
            for s in steps:
                added += self._db.execute(
                    _INSERT,
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
                        self._db.at(s.send_at),
                        self._db.at(s.send_at),
                    ),
                )
        return added

    def claim(self, worker: str, now: datetime, limit: int, lease: timedelta) -> list[ClaimedStep]:
        at = self._db.at(now)
        rows = self._db.query(self._claim, (at, self._db.at(now - lease), limit, worker, at))
        return sorted((ClaimedStep(*r) for r in rows), key=lambda s: s.id)

    def _finish(self, worker: str, sql: str, args: tuple[object, ...]) -> bool:
        changed = self._db.execute(
            sql + " AND claimed_by = ? AND status = 'sending'", (*args, worker)
        )
        return changed == 1

    def mark_sent(self, step: ClaimedStep, worker: str, now: datetime) -> None:
        with self._db.transaction():
            if self._finish(
                worker,
                "UPDATE reminder_step SET status = 'sent', sent_at = ?, last_error = NULL"
                " WHERE id = ?",
                (self._db.at(now), step.id),
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
                (status, error[:1000], self._db.at(retry_at), step.id),
            ):
                self._log(step, worker, now, "failed" if retry_at is None else "retry", error)

    def _log(
        self, step: ClaimedStep, worker: str, now: datetime, outcome: str, detail: str
    ) -> None:
        self._db.execute(
            "INSERT INTO reminder_delivery (step_id, attempt, worker, at, outcome, detail)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (step.id, step.attempt, worker, self._db.at(now), outcome, detail[:1000]),
        )

    def cancel_subject(self, tenant: str, subject_key: str, reason: str) -> int:
        """Stop the sequences of a due item: its pending steps are cancelled with ``reason``."""
        return self._db.execute(_CANCEL, (reason, tenant, subject_key))

    def record_booking(
        self,
        tenant: str,
        subject_key: str,
        step_id: int | None,
        at: datetime,
        reason: str = BOOKED,
    ) -> None:
        """A booking (through a reminder's link when ``step_id`` is given): conversion + stop.
        The conversion is credited to the variant of that step, else of the last step sent."""
        with self._db.transaction():
            self._db.execute(
                "INSERT INTO reminder_conversion (tenant, subject_key, step_id, variant, booked_at)"
                " VALUES (?, ?, ?, COALESCE((SELECT variant FROM reminder_step WHERE id = ?),"
                " (SELECT variant FROM reminder_step WHERE tenant = ? AND subject_key = ?"
                " AND status = 'sent' ORDER BY sent_at DESC LIMIT 1), ''), ?)"
                " ON CONFLICT DO NOTHING",
                (tenant, subject_key, step_id, step_id, tenant, subject_key, self._db.at(at)),
            )
            self._db.execute(_CANCEL, (reason, tenant, subject_key))

    def resume_subject(self, tenant: str, subject_key: str, now: datetime) -> int:
        """The booking was cancelled: steps stopped by it and still ahead are pending again."""
        return self._db.execute(
            "UPDATE reminder_step SET status = 'pending', cancel_reason = NULL"
            " WHERE tenant = ? AND subject_key = ? AND status = 'cancelled'"
            " AND cancel_reason LIKE ? AND send_at >= ?",
            (tenant, subject_key, f"{BOOKED}%", self._db.at(now)),
        )

    def revive_booked(self, steps: Sequence[NewStep]) -> int:
        """Planned steps whose stored twin a booking cancelled are pending again, at the newly
        planned time (the booking no longer counts: it was missed)."""
        revived = 0
        with self._db.transaction():
            for s in steps:
                revived += self._db.execute(
                    "UPDATE reminder_step SET status = 'pending', cancel_reason = NULL,"
                    " send_at = ?, next_attempt_at = ? WHERE tenant = ? AND sequence = ?"
                    " AND subject_key = ? AND step = ? AND recipient = ? AND channel = ?"
                    " AND status = 'cancelled' AND cancel_reason LIKE ?",
                    (
                        self._db.at(s.send_at),
                        self._db.at(s.send_at),
                        s.tenant,
                        s.sequence,
                        s.subject_key,
                        s.step,
                        s.recipient,
                        s.channel,
                        f"{BOOKED}%",
                    ),
                )
        return revived

    def variant_report(self, tenant: str, sequence: str) -> list[VariantStats]:
        """A/B conversion: subjects reached per variant (a step sent) and booked after it."""
        sent = self._db.query(
            "SELECT DISTINCT variant, subject_key FROM reminder_step"
            " WHERE tenant = ? AND sequence = ? AND status = 'sent'",
            (tenant, sequence),
        )
        converted = self._db.query(
            "SELECT DISTINCT c.variant, c.subject_key FROM reminder_conversion c"
            " WHERE c.tenant = ? AND EXISTS (SELECT 1 FROM reminder_step s WHERE s.tenant ="
            " c.tenant AND s.subject_key = c.subject_key AND s.sequence = ?"
            " AND s.status = 'sent' AND s.sent_at <= c.booked_at)",
            (tenant, sequence),
        )
        return conversion_by_variant([(v, k) for v, k in sent], [(v, k) for v, k in converted])

    def write_inbox(self, step: ClaimedStep, now: datetime) -> None:
        self._db.execute(
            "INSERT INTO inbox_message (tenant, recipient, step_id, subject, body, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (step_id) DO NOTHING",
            (step.tenant, step.recipient, step.id, step.subject, step.body, self._db.at(now)),
        )
