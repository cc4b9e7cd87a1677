"""Due state of one device: the earliest of time-, usage- and event-based due dates, with a
reason a person can read.

Pure: the current time and the device's facts are passed in. The vectorised twin for whole
fleets is :mod:`labcal_cloud.engine.due_vector`; both follow the same rules (tested to agree).

Rules
- *blocked*: the last calibration (as left) was not conforming → not to be used, whatever the
  dates say; a calibration whose results were within limits but whose verdict is "conformity
  not stated" or "not evaluated" blocks the device for review (basis ``calibration_review``).
  Only a conforming calibration (or a correction that makes it one) releases the device.
- *time*: ``last calibration + policy.interval_days``.
- *usage*: with a cycle limit, ``now + (limit − cycles since calibration) / cycles per day``
  (a limit already passed is projected back to the day it was reached; without usage no date).
- *events* after the last calibration (drop, failed quick check, first use after long storage)
  → due at the event's time ("due now").
- never calibrated → due since registration.
- The earliest date wins; on a tie events explain best, then usage, then time.
- Status from the days left ``d``: ``d > due_soon_days`` ok; ``0 < d ≤ due_soon_days`` due soon;
  ``−grace_days < d ≤ 0`` due; otherwise overdue.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from labcal_cloud.engine.errors import PolicyError

__all__ = [
    "DAY",
    "DeviceFacts",
    "DueBasis",
    "DuePolicy",
    "DueState",
    "DueStateChanged",
    "DueStatus",
    "EventFact",
    "EventKind",
    "compute_due",
    "due_state_change",
    "earliest_event_after",
    "format_count",
    "status_for",
]

DAY = timedelta(days=1)


class DueStatus(StrEnum):
    OK = "ok"
    DUE_SOON = "due_soon"
    DUE = "due"
    OVERDUE = "overdue"
    BLOCKED = "blocked"


class EventKind(StrEnum):
    DROP = "drop"
    FAILED_QUICK_CHECK = "failed_quick_check"
    LONG_STORAGE = "long_storage"


class DueBasis(StrEnum):
    """What made the device due (order = tie-break priority of the vectorised path)."""

    EVENT = "event"
    USAGE = "usage"
    TIME = "time"
    NEVER_CALIBRATED = "never_calibrated"
    FAILED_CALIBRATION = "failed_calibration"
    CALIBRATION_REVIEW = "calibration_review"


@dataclass(frozen=True, slots=True)
class DuePolicy:
    """A tenant's (or a model's service profile's) due policy."""

    interval_days: float = 365.0
    cycle_limit: int | None = None
    due_soon_days: float = 30.0
    grace_days: float = 14.0
    long_storage_days: float = 90.0

    def __post_init__(self) -> None:
        if not self.interval_days > 0:
            raise PolicyError(f"interval_days must be positive, got {self.interval_days!r}")
        if self.cycle_limit is not None and self.cycle_limit <= 0:
            raise PolicyError(f"cycle_limit must be positive, got {self.cycle_limit!r}")
        for name in ("due_soon_days", "grace_days", "long_storage_days"):
            value = getattr(self, name)
            if not (value >= 0 and math.isfinite(value)):
                raise PolicyError(f"{name} must be a finite number ≥ 0, got {value!r}")


@dataclass(frozen=True, slots=True)
class EventFact:
    """Something that makes a device due now, if it happened after the last calibration."""

    kind: EventKind
    at: datetime
    detail: str = ""


@dataclass(frozen=True, slots=True)
class DeviceFacts:
    """What the engine knows about one device at ``now``."""

    registered_at: datetime
    last_calibration_at: datetime | None = None
    last_calibration_passed: bool = True  # the last calibration was conforming
    cycles_since_calibration: int = 0
    cycles_per_day: float = 0.0
    events: tuple[EventFact, ...] = ()
    last_calibration_review: bool = False  # not conforming, but not failed: blocked for review
    last_calibration_issue: str = ""  # the verdict and its first reason, for the blocked reason

    def __post_init__(self) -> None:
        if self.cycles_since_calibration < 0:
            raise PolicyError(
                "cycles since calibration must not be negative, "
                f"got {self.cycles_since_calibration}"
            )
        if not (self.cycles_per_day >= 0 and math.isfinite(self.cycles_per_day)):
            raise PolicyError(f"cycles per day must be finite and ≥ 0, got {self.cycles_per_day}")


@dataclass(frozen=True, slots=True)
class DueState:
    status: DueStatus
    basis: DueBasis
    due_at: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class DueStateChanged:
    """The event recorded (and sent as ``device.due_state_changed``) when a state changes."""

    at: datetime
    previous: DueStatus | None
    current: DueStatus
    basis: DueBasis
    due_at: datetime
    reason: str


def format_count(value: float) -> str:
    """``48200 → "48,200"``; rates below 10 keep one decimal."""
    if abs(value) < 10 and value != int(value):
        return f"{value:,.1f}"
    return f"{round(value):,}"


def _date(at: datetime) -> str:
    return at.date().isoformat()


def earliest_event_after(events: Iterable[EventFact], after: datetime | None) -> EventFact | None:
    """The first event strictly after ``after`` (all events when never calibrated)."""
    relevant = [e for e in events if after is None or e.at > after]
    return min(relevant, key=lambda e: e.at) if relevant else None


def _event_text(event: EventFact) -> str:
    if event.kind is EventKind.DROP:
        text = f"drop event on {_date(event.at)}"
    elif event.kind is EventKind.FAILED_QUICK_CHECK:
        text = f"failed quick check on {_date(event.at)}"
    else:
        text = f"first use on {_date(event.at)} after long storage"
    return f"{text} ({event.detail})" if event.detail else text


def _usage_due(facts: DeviceFacts, limit: int, now: datetime) -> datetime | None:
    remaining = limit - facts.cycles_since_calibration
    if facts.cycles_per_day > 0:
        return now + timedelta(days=remaining / facts.cycles_per_day)
    return now if remaining <= 0 else None


def _headline(status: DueStatus, days_left: float) -> str:
    days = int(abs(days_left))
    unit = "day" if days == 1 else "days"
    if status is DueStatus.OVERDUE:
        return f"overdue by {days} {unit}"
    if status is DueStatus.DUE:
        return "due now" if days == 0 else f"due {days} {unit} ago"
    if status is DueStatus.DUE_SOON:
        return f"due in {days} {unit}" if days else "due today"
    return f"ok, due in {days} {unit}"


def status_for(days_left: float, policy: DuePolicy) -> DueStatus:
    if days_left > policy.due_soon_days:
        return DueStatus.OK
    if days_left > 0:
        return DueStatus.DUE_SOON
    if days_left > -policy.grace_days:
        return DueStatus.DUE
    return DueStatus.OVERDUE


def compute_due(facts: DeviceFacts, policy: DuePolicy, now: datetime) -> DueState:
    """The device's due state at ``now``, with its reason."""
    last = facts.last_calibration_at
    if last is not None and not facts.last_calibration_passed:
        issue = f" ({facts.last_calibration_issue})" if facts.last_calibration_issue else ""
        if facts.last_calibration_review:
            return DueState(
                DueStatus.BLOCKED,
                DueBasis.CALIBRATION_REVIEW,
                last,
                f"blocked for review: the calibration on {_date(last)} made no statement of "
                f"conformity{issue}; not to be used until reviewed and calibrated again",
            )
        return DueState(
            DueStatus.BLOCKED,
            DueBasis.FAILED_CALIBRATION,
            last,
            f"blocked: the calibration on {_date(last)} failed{issue}; not to be used until "
            "serviced and calibrated",
        )
    # candidates in tie-break order: event, usage, time (or never calibrated)
    candidates: list[tuple[datetime, DueBasis, str]] = []
    event = earliest_event_after(facts.events, last)
    if event is not None:
        candidates.append((event.at, DueBasis.EVENT, _event_text(event)))
    if policy.cycle_limit is not None:
        usage_at = _usage_due(facts, policy.cycle_limit, now)
        if usage_at is not None:
            text = (
                f"{format_count(facts.cycles_since_calibration)} of "
                f"{format_count(policy.cycle_limit)} cycles"
            )
            if facts.cycles_per_day > 0:
                text += f" at {format_count(facts.cycles_per_day)}/day"
            candidates.append((usage_at, DueBasis.USAGE, text))
    if last is None:
        candidates.append(
            (facts.registered_at, DueBasis.NEVER_CALIBRATED, "no calibration on record")
        )
    else:
        candidates.append(
            (
                last + timedelta(days=policy.interval_days),
                DueBasis.TIME,
                f"{format_count(policy.interval_days)}-day interval since the calibration on "
                f"{_date(last)}",
            )
        )
    due_at, basis, text = min(candidates, key=lambda c: c[0])  # stable: first wins ties
    days_left = (due_at - now) / DAY
    status = status_for(days_left, policy)
    return DueState(status, basis, due_at, f"{_headline(status, days_left)}: {text}")


def due_state_change(
    previous: DueState | None, current: DueState, now: datetime
) -> DueStateChanged | None:
    """The change event, or None when neither the status nor its basis changed."""
    if previous is not None and (previous.status, previous.basis) == (
        current.status,
        current.basis,
    ):
        return None
    return DueStateChanged(
        at=now,
        previous=None if previous is None else previous.status,
        current=current.status,
        basis=current.basis,
        due_at=current.due_at,
        reason=current.reason,
    )
