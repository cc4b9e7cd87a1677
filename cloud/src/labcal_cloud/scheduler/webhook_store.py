"""The webhook outbox on the SQL gateway (SQLite and PostgreSQL): one delivery per (endpoint,
event), claimed like reminder steps (one ``UPDATE … RETURNING`` over a CTE, ``FOR UPDATE SKIP
LOCKED`` on PostgreSQL; lease takeover), every attempt logged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from labcal_cloud.db.gateway import Database, placeholders

__all__ = ["ClaimedDelivery", "SqlWebhookStore"]


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
    WHERE (status = 'pending' AND next_attempt_at <= ?)
       OR (status = 'sending' AND claimed_at <= ?)
    ORDER BY next_attempt_at, id
    LIMIT ?{skip_locked}
)
UPDATE webhook_delivery
SET status = 'sending', claimed_by = ?, claimed_at = ?, attempts = attempts + 1
WHERE id IN (SELECT id FROM due)
RETURNING id, endpoint_id, event_id, event_type, body, attempts
"""


class SqlWebhookStore:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._claim = _CLAIM.format(skip_locked=db.skip_locked)

    def add_endpoint(self, tenant: str, url: str, secret: str, events: str = "*") -> int:
        row = self._db.one(
            "INSERT INTO webhook_endpoint (tenant, url, secret, events) VALUES (?, ?, ?, ?)"
            " RETURNING id",
            (tenant, url, secret, events),
        )
        assert row is not None
        return int(row[0])

    def publish(
        self, tenant: str, event_type: str, event_id: str, body: bytes, now: datetime
    ) -> int:
        """Queue the event for every active endpoint of the tenant that subscribed to it (in the
        caller's transaction when there is one); publishing the same event id again adds
        nothing. Returns the deliveries added."""
        return self._db.execute(
            "INSERT INTO webhook_delivery (endpoint_id, event_id, event_type, body,"
            " next_attempt_at) SELECT id, ?, ?, ?, ? FROM webhook_endpoint"
            " WHERE tenant = ? AND active = ? AND (events = '*' OR ',' || events || ',' LIKE ?)"
            " ON CONFLICT DO NOTHING",
            (
                event_id,
                event_type,
                body,
                self._db.at(now),
                tenant,
                True if self._db.is_postgres else 1,
                f"%,{event_type},%",
            ),
        )

    def claim(
        self, worker: str, now: datetime, limit: int, lease: timedelta
    ) -> list[ClaimedDelivery]:
        at = self._db.at(now)
        with self._db.transaction():
            rows = self._db.query(self._claim, (at, self._db.at(now - lease), limit, worker, at))
            if not rows:
                return []
            ids = sorted({int(r[1]) for r in rows})
            endpoints = {
                int(e[0]): (str(e[1]), str(e[2]))
                for e in self._db.query(
                    "SELECT id, url, secret FROM webhook_endpoint"
                    f" WHERE id IN ({placeholders(len(ids))})",
                    ids,
                )
            }
        claimed = [
            ClaimedDelivery(
                int(r[0]), int(r[1]), *endpoints[int(r[1])], r[2], r[3], bytes(r[4]), int(r[5])
            )
            for r in rows
        ]
        return sorted(claimed, key=lambda d: d.id)

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
        at = self._db.at(now)
        with self._db.transaction():
            changed = self._db.execute(
                "UPDATE webhook_delivery SET status = ?, last_error = ?,"
                " sent_at = CASE WHEN ? THEN ? ELSE sent_at END,"
                " next_attempt_at = COALESCE(?, next_attempt_at)"
                " WHERE id = ? AND claimed_by = ? AND status = 'sending'",
                (
                    status,
                    error[:1000] or None,
                    status == "sent",
                    at,
                    self._db.at(retry_at),
                    delivery.id,
                    worker,
                ),
            )
            if changed == 1:
                self._db.execute(
                    "INSERT INTO webhook_attempt (delivery_id, attempt, worker, at, http_status,"
                    " outcome, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (delivery.id, delivery.attempt, worker, at, http_status, outcome, error[:1000]),
                )
