"""The engine's ``EventPublisher`` on the webhook outbox: a domain event becomes its webhook
(``notify.webhooks.webhook_for``: type and body) and one delivery per subscribed endpoint of the
tenant, written through the same gateway and so in the caller's transaction (a record and its
event commit together, or neither). Publishing the same event again adds nothing (the delivery
is unique per endpoint and ``event_id``)."""

from __future__ import annotations

from labcal_cloud.db.gateway import Database
from labcal_cloud.engine.events import DomainEvent
from labcal_cloud.notify.webhooks import webhook_for
from labcal_cloud.scheduler.webhook_store import SqlWebhookStore

__all__ = ["WebhookOutbox"]


class WebhookOutbox:
    """``engine.events.EventPublisher``: ``publish(event)`` queues its webhook deliveries."""

    def __init__(self, db: Database) -> None:
        self._store = SqlWebhookStore(db)
        self.added = 0  # deliveries queued so far (for logs and tests)

    def publish(self, event: DomainEvent) -> None:
        kind, key, body = webhook_for(event)
        self.added += self._store.publish(event.tenant, kind.value, key, body, event.at)
