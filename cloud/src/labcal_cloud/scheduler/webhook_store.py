"""Webhook outbox on PostgreSQL: one delivery per (endpoint, event), claimed like reminder
steps (``FOR UPDATE SKIP LOCKED``, lease takeover), every attempt logged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg

__all__ = ["ClaimedDelivery", "PostgresWebhookStore"]


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    id: int
    endpoint_id: int
    url: str
    secret: str
    event_id: str
    event_type: str
    body: bytes
    attempt: int


_CLAIM = """
WITH due AS (
    SELECT id FROM webhook_delivery
    WHERE (status = 'pending' AND next_attempt_at <= %(now)s)
       OR (status = 'sending' AND claimed_at <= %(stale)s)
    ORDER BY next_attempt_at, id
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
UPDATE webhook_delivery AS d
SET status = 'sending', claimed_by = %(worker)s, claimed_at = %(now)s, attempts = d.attempts + 1
FROM due, webhook_endpoint AS e
WHERE d.id = due.id AND e.id = d.endpoint_id
RETURNING d.id, d.endpoint_id, e.url, e.secret, d.event_id, d.event_type, d.body, d.attempts
"""


class PostgresWebhookStore:
    def __init__(self, url: str) -> None:
        self._conn: psycopg.Connection[Any] = psycopg.connect(url)

    def close(self) -> None:
        self._conn.close()

    def add_endpoint(self, tenant: str, url: str, secret: str, events: str = "*") -> int:
        with self._conn.transaction():
            row = self._conn.execute(
                "INSERT INTO webhook_endpoint (tenant, url, secret, events) "
                "VALUES (%s, %s, %s, %s) RETURNING id",
                (tenant, url, secret, events),
            ).fetchone()
        assert row is not None
        return int(row[0])

    def publish(
        self, tenant: str, event_type: str, event_id: str, body: bytes, now: datetime
    ) -> int:
        """Queue the event for every active endpoint of the tenant that subscribed to it;
        publishing the same event id again adds nothing."""
        with self._conn.transaction(), self._conn.cursor() as cur:
            cur.execute(
                """INSERT INTO webhook_delivery (endpoint_id, event_id, event_type, body,
                       next_attempt_at)
                   SELECT id, %s, %s, %s, %s FROM webhook_endpoint
                   WHERE tenant = %s AND active
                     AND (events = '*' OR %s = ANY (string_to_array(events, ',')))
                   ON CONFLICT DO NOTHING""",
                (event_id, event_type, body, now, tenant, event_type),
            )
            return cur.rowcount

    def claim(
        self, worker: str, now: datetime, limit: int, lease: timedelta
    ) -> list[ClaimedDelivery]:
        with self._conn.transaction(), self._conn.cursor() as cur:
            cur.execute(
                _CLAIM, {"now": now, "stale": now - lease, "limit": limit, "worker": worker}
            )
            rows = cur.fetchall()
        return [
            ClaimedDelivery(r[0], r[1], r[2], r[3], r[4], r[5], bytes(r[6]), r[7]) for r in rows
        ]

    def finish(
        self,
        delivery: ClaimedDelivery,
        worker: str,
        now: datetime,
        *,
        http_status: int | None,
        error: str,
        retry_at: datetime | None,
    ) -> None:
        """Record the attempt: sent (no error), retry at ``retry_at``, or failed for good."""
        if not error:
            status, outcome = "sent", "sent"
        elif retry_at is not None:
            status, outcome = "pending", "retry"
        else:
            status, outcome = "failed", "failed"
        with self._conn.transaction(), self._conn.cursor() as cur:
            cur.execute(
                """UPDATE webhook_delivery SET status = %s, last_error = %s,
                       sent_at = CASE WHEN %s = 'sent' THEN %s ELSE sent_at END,
                       next_attempt_at = COALESCE(%s, next_attempt_at)
                   WHERE id = %s AND claimed_by = %s AND status = 'sending'""",
                (status, error[:1000] or None, status, now, retry_at, delivery.id, worker),
            )
            if cur.rowcount == 1:
                cur.execute(
                    "INSERT INTO webhook_attempt (delivery_id, attempt, worker, at, http_status, "
                    "outcome, detail) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                    (
                        delivery.id,
                        delivery.attempt,
                        worker,
                        now,
                        http_status,
                        outcome,
                        error[:1000],
                    ),
                )
