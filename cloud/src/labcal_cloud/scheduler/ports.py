"""Ports of the scheduler: the reminder store and a delivery channel."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from labcal_cloud.notify.steps import NewStep
from labcal_cloud.scheduler.errors import DeliveryError

# NewStep (the planner's output, owned by notify) and DeliveryError are re-exported here for
# the adapters that speak the ports.
__all__ = ["ClaimedStep", "DeliveryError", "NewStep", "ReminderStore", "Sender"]


@dataclass(frozen=True, slots=True)
class ClaimedStep:
    id: int
    tenant: str
    sequence: str
    subject_key: str
    step: str
    recipient: str
    channel: str
    address: str
    subject: str
    body: str
    variant: str
    attempt: int


class ReminderStore(Protocol):
    def enqueue(self, steps: Sequence[NewStep]) -> int: ...

    def claim(
        self, worker: str, now: datetime, limit: int, lease: timedelta
    ) -> list[ClaimedStep]: ...

    def mark_sent(self, step: ClaimedStep, worker: str, now: datetime) -> None: ...

    def mark_failed(
        self, step: ClaimedStep, worker: str, now: datetime, error: str, retry_at: datetime | None
    ) -> None: ...

    def cancel_subject(self, tenant: str, subject_key: str, reason: str) -> int: ...

    def record_booking(
        self, tenant: str, subject_key: str, step_id: int | None, at: datetime
    ) -> None: ...

    def write_inbox(self, step: ClaimedStep, now: datetime) -> None: ...


class Sender(Protocol):
    def send(self, step: ClaimedStep) -> None:
        """Deliver or raise :class:`DeliveryError`."""
        ...
