"""The reminder store on PostgreSQL (psycopg 3).

``claim`` takes due steps with ``FOR UPDATE SKIP LOCKED`` and marks them ``sending`` by this
worker in the same transaction, so two replicas never hold the same step. A step left in
``sending`` by a crashed worker is taken again after the lease; its e-mail keeps the same
Message-ID (``<reminder-{id}@labcal>``), so a receiver can recognise the repeat.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import psycopg

from labcal_cloud.notify.experiments import VariantStats, conversion_by_variant
from labcal_cloud.scheduler.ports import ClaimedStep, NewStep

__all__ = ["PostgresReminderStore"]

_CLAIM = """
WITH due AS (
    SELECT id FROM reminder_step
    WHERE (status = 'pending' AND next_attempt_at <= %(now)s)
       OR (status = 'sending' AND claimed_at <= %(stale)s)
    ORDER BY next_attempt_at, id
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
UPDATE reminder_step AS s
SET status = 'sending', claimed_by = %(worker)s, claimed_at = %(now)s, attempts = s.attempts + 1
FROM due WHERE s.id = due.id
RETURNING s.id, s.tenant, s.sequence, s.subject_key, s.step, s.recipient, s.channel,
          s.address, s.subject, s.body, s.variant, s.attempts
"""


class PostgresReminderStore:
    def __init__(self, url: str) -> None:
        self._conn: psycopg.Connection[Any] = psycopg.connect(url)

    def close(self) -> None:
        self._conn.close()

    def enqueue(self, steps: Sequence[NewStep]) -> int:
        """Store planned steps; a step already planned (same key) is left as it is."""
        with self._conn.transaction(), self._conn.cursor() as cur:
            added = 0
            for s in steps:
                cur.execute(
                    """INSERT INTO reminder_step (tenant, sequence, subject_key, step, recipient,
                       channel, address, variant, subject, body, send_at, next_attempt_at)
                       VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
                       ON CONFLICT DO NOTHING""",
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
                        s.send_at,
                        s.send_at,
                    ),
                )
                added += cur.rowcount
        return added

    def claim(self, worker: str, now: datetime, limit: int, lease: timedelta) -> list[ClaimedStep]:
        with self._conn.transaction(), self._conn.cursor() as cur:
            cur.execute(
                _CLAIM, {"now": now, "stale": now - lease, "limit": limit, "worker": worker}
            )
            rows = cur.fetchall()
        return [ClaimedStep(*row) for row in rows]

    def _finish(self, step: ClaimedStep, worker: str, sql: str, args: tuple[Any, ...]) -> bool:
        with self._conn.cursor() as cur:
            cur.execute(sql + " AND claimed_by = %s AND status = 'sending'", (*args, worker))
            return cur.rowcount == 1

    def mark_sent(self, step: ClaimedStep, worker: str, now: datetime) -> None:
        with self._conn.transaction():
            if self._finish(
                step,
                worker,
                "UPDATE reminder_step SET status = 'sent', sent_at = %s, last_error = NULL "
                "WHERE id = %s",
                (now, step.id),
            ):
                self._log(step, worker, now, "sent", "")

    def mark_failed(
        self, step: ClaimedStep, worker: str, now: datetime, error: str, retry_at: datetime | None
    ) -> None:
        status = "failed" if retry_at is None else "pending"
        with self._conn.transaction():
            if self._finish(
                step,
                worker,
                "UPDATE reminder_step SET status = %s, last_error = %s, "
                "next_attempt_at = COALESCE(%s, next_attempt_at) WHERE id = %s",
                (status, error[:1000], retry_at, step.id),
            ):
                self._log(step, worker, now, "failed" if retry_at is None else "retry", error)

    def _log(
        self, step: ClaimedStep, worker: str, now: datetime, outcome: str, detail: str
    ) -> None:
        self._conn.execute(
            "INSERT INTO reminder_delivery (step_id, attempt, worker, at, outcome, detail) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            (step.id, step.attempt, worker, now, outcome, detail[:1000]),
        )

    def cancel_subject(self, tenant: str, subject_key: str, reason: str) -> int:
        """Stop the sequences of a due item (it was booked): pending steps are cancelled."""
        with self._conn.transaction(), self._conn.cursor() as cur:
            cur.execute(
                "UPDATE reminder_step SET status = 'cancelled', cancel_reason = %s "
                "WHERE tenant = %s AND subject_key = %s AND status = 'pending'",
                (reason, tenant, subject_key),
            )
            return cur.rowcount

    def record_booking(
        self,
        tenant: str,
        subject_key: str,
        step_id: int | None,
        at: datetime,
        reason: str = "booked",
    ) -> None:
        """A booking (through a reminder's link when ``step_id`` is given): conversion + stop.
        The conversion is credited to the variant of that step, else of the last step sent."""
        with self._conn.transaction():
            self._conn.execute(
                """INSERT INTO reminder_conversion
                   (tenant, subject_key, step_id, variant, booked_at)
                   VALUES (%s, %s, %s, COALESCE(
                       (SELECT variant FROM reminder_step WHERE id = %s),
                       (SELECT variant FROM reminder_step
                        WHERE tenant = %s AND subject_key = %s AND status = 'sent'
                        ORDER BY sent_at DESC LIMIT 1),
                       ''), %s)
                   ON CONFLICT DO NOTHING""",
                (tenant, subject_key, step_id, step_id, tenant, subject_key, at),
            )
            self._conn.execute(
                "UPDATE reminder_step SET status = 'cancelled', cancel_reason = %s "
                "WHERE tenant = %s AND subject_key = %s AND status = 'pending'",
                (reason, tenant, subject_key),
            )

    def resume_subject(self, tenant: str, subject_key: str, now: datetime) -> int:
        """The booking was cancelled: steps stopped by it and still ahead are pending again."""
        with self._conn.transaction(), self._conn.cursor() as cur:
            cur.execute(
                "UPDATE reminder_step SET status = 'pending', cancel_reason = NULL "
                "WHERE tenant = %s AND subject_key = %s AND status = 'cancelled' "
                "AND cancel_reason LIKE 'booked%%' AND send_at >= %s",
                (tenant, subject_key, now),
            )
            return cur.rowcount

    def variant_report(self, tenant: str, sequence: str) -> list[VariantStats]:
        """A/B conversion: subjects reached per variant (a step sent) and booked after it."""
        sent = self._conn.execute(
            "SELECT DISTINCT variant, subject_key FROM reminder_step "
            "WHERE tenant = %s AND sequence = %s AND status = 'sent'",
            (tenant, sequence),
        ).fetchall()
        converted = self._conn.execute(
            "SELECT DISTINCT c.variant, c.subject_key FROM reminder_conversion c "
            "WHERE c.tenant = %s AND EXISTS (SELECT 1 FROM reminder_step s WHERE s.tenant = "
            "c.tenant AND s.subject_key = c.subject_key AND s.sequence = %s "
            "AND s.status = 'sent' AND s.sent_at <= c.booked_at)",
            (tenant, sequence),
        ).fetchall()
        return conversion_by_variant([(v, k) for v, k in sent], [(v, k) for v, k in converted])

    def write_inbox(self, step: ClaimedStep, now: datetime) -> None:
        with self._conn.transaction():
            self._conn.execute(
                "INSERT INTO inbox_message (tenant, recipient, step_id, subject, body, created_at) "
                "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (step_id) DO NOTHING",
                (step.tenant, step.recipient, step.id, step.subject, step.body, now),
            )
