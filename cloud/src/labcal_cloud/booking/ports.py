"""Ports the booking service drives: reminder sequences (engine/scheduler) and e-mail."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

__all__ = ["Mailer", "NoReminders", "ReminderControl"]


class ReminderControl(Protocol):
    def stop(self, tenant_id: str, device_ids: Sequence[str], reason: str) -> None:
        """End the reminder sequences of these devices (a booking answers them)."""

    def resume(self, tenant_id: str, device_ids: Sequence[str]) -> None:
        """Restart reminding (the booking was cancelled)."""


class Mailer(Protocol):
    def send(self, to: str, subject: str, body: str) -> None: ...


class NoReminders:
    """Used until the scheduler's reminder control is wired in."""

    def stop(self, tenant_id: str, device_ids: Sequence[str], reason: str) -> None:
        return None

    def resume(self, tenant_id: str, device_ids: Sequence[str]) -> None:
        return None
