"""The planner's output type: one reminder step to store (the scheduler stores and delivers it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["NewStep"]


@dataclass(frozen=True, slots=True)
class NewStep:
    tenant: str
    sequence: str
    subject_key: str
    step: str
    recipient: str
    channel: str
    address: str
    subject: str
    body: str
    send_at: datetime
    variant: str = ""
