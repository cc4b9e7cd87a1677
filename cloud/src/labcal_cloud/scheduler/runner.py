"""One scheduler pass: claim due steps, deliver each through its channel, record the outcome."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.error import HTTPError

from labcal_cloud.scheduler.backoff import retry_at
from labcal_cloud.scheduler.ports import ClaimedStep, DeliveryError, ReminderStore, Sender
from labcal_cloud.scheduler.webhook_sender import post_webhook
from labcal_cloud.scheduler.webhook_store import SqlWebhookStore

__all__ = ["PassResult", "run_pass", "run_webhook_pass"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PassResult:
    claimed: int
    sent: int
    retried: int
    failed: int


def run_pass(
    store: ReminderStore,
    senders: Mapping[str, Sender],
    *,
    worker: str,
    now: Callable[[], datetime],
    batch: int = 20,
    lease: timedelta = timedelta(minutes=10),
    restate: Callable[[ClaimedStep, datetime], ClaimedStep] | None = None,
) -> PassResult:
    """Claim due steps and deliver each; ``restate`` (e.g. ``DueRestater``) rewrites a step's
    text from the state of its subject at delivery time, so it says what is true when sent."""
    claimed = store.claim(worker, now(), batch, lease)
    sent = retried = failed = 0
    for claimed_step in claimed:
        step = restate(claimed_step, now()) if restate is not None else claimed_step
        sender = senders.get(step.channel)
        try:
            if sender is None:
                raise DeliveryError(
                    f"no sender configured for channel {step.channel!r}", permanent=True
                )
            sender.send(step)
        except DeliveryError as exc:
            when = None if exc.permanent else retry_at(step.attempt, now())
            store.mark_failed(step, worker, now(), str(exc), when)
            if when is None:
                failed += 1
                log.warning("step %s failed for good: %s", step.id, exc)
            else:
                retried += 1
            continue
        store.mark_sent(step, worker, now())
        sent += 1
    return PassResult(len(claimed), sent, retried, failed)


def run_webhook_pass(
    store: SqlWebhookStore,
    *,
    worker: str,
    now: Callable[[], datetime],
    batch: int = 20,
    lease: timedelta = timedelta(minutes=10),
) -> PassResult:
    """Deliver due webhook events; failures are retried with the same backoff as reminders."""
    claimed = store.claim(worker, now(), batch, lease)
    sent = retried = failed = 0
    for delivery in claimed:
        try:
            status = post_webhook(delivery, int(now().timestamp()))
        except DeliveryError as exc:
            when = None if exc.permanent else retry_at(delivery.attempt, now())
            code = exc.__cause__.code if isinstance(exc.__cause__, HTTPError) else None
            store.finish(delivery, worker, now(), http_status=code, error=str(exc), retry_at=when)
            if when is None:
                failed += 1
            else:
                retried += 1
            continue
        store.finish(delivery, worker, now(), http_status=status, error="", retry_at=None)
        sent += 1
    return PassResult(len(claimed), sent, retried, failed)
