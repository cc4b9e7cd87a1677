"""``labcal-cloud engine records|due|forecast``: the engine's one-shot commands, wired here (the
composition root) to the webhook outbox, so their events reach the integrators like the
pipeline's. The engine itself imports nothing from the scheduler."""

from __future__ import annotations

from typing import Any

from labcal_cloud.engine import commands
from labcal_cloud.scheduler.event_outbox import WebhookOutbox

__all__ = ["register"]


def register(subparsers: Any) -> None:
    commands.register(subparsers, publisher_factory=WebhookOutbox)
