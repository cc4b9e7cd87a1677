"""Nudge sequences: which steps to send for a due item (or a new account), and when.

A sequence is a list of named steps with offsets from an anchor: the due date for the due
sequence (initial 30 days before, follow-up 14, last notice 3, overdue escalation 7 days
after), the account's creation for onboarding (welcome, day 3, day 7). Tenants override the
offsets. Steps whose time has passed long ago are not planned (a device registered already
overdue gets the escalation, not a stale "due in 30 days").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from labcal_cloud.engine.errors import PolicyError

__all__ = [
    "DUE_SEQUENCE",
    "ONBOARDING_SEQUENCE",
    "PlannedStep",
    "SequenceSpec",
    "StepSpec",
    "plan_steps",
]


@dataclass(frozen=True, slots=True)
class StepSpec:
    name: str
    offset_days: float  # from the anchor (negative: before it)


@dataclass(frozen=True, slots=True)
class SequenceSpec:
    name: str
    steps: tuple[StepSpec, ...]

    def __post_init__(self) -> None:
        names = [s.name for s in self.steps]
        if len(set(names)) != len(names):
            raise PolicyError(f"sequence {self.name!r} repeats a step name: {names}")
        offsets = [s.offset_days for s in self.steps]
        if offsets != sorted(offsets):
            raise PolicyError(f"sequence {self.name!r}: step offsets must increase: {offsets}")

    def with_offsets(self, offsets: Mapping[str, float]) -> SequenceSpec:
        """The tenant's version: some offsets replaced (unknown step names are refused)."""
        unknown = set(offsets) - {s.name for s in self.steps}
        if unknown:
            raise PolicyError(f"sequence {self.name!r} has no step(s) {sorted(unknown)}")
        return SequenceSpec(
            self.name,
            tuple(StepSpec(s.name, offsets.get(s.name, s.offset_days)) for s in self.steps),
        )


DUE_SEQUENCE: Final = SequenceSpec(
    "due",
    (
        StepSpec("initial", -30),
        StepSpec("follow_up", -14),
        StepSpec("last_notice", -3),
        StepSpec("overdue_escalation", 7),
    ),
)
ONBOARDING_SEQUENCE: Final = SequenceSpec(
    "onboarding", (StepSpec("welcome", 0), StepSpec("day_3", 3), StepSpec("day_7", 7))
)


@dataclass(frozen=True, slots=True)
class PlannedStep:
    sequence: str
    step: str
    send_at: datetime


def plan_steps(
    spec: SequenceSpec, anchor: datetime, now: datetime, stale_after_days: float = 2.0
) -> list[PlannedStep]:
    """Steps to store for ``anchor``: future ones at their time; of the steps already past,
    only the latest, and only if it is not older than ``stale_after_days`` — or, when every
    step is past, the last one now (an escalation is never skipped)."""
    planned: list[PlannedStep] = []
    past: Sequence[StepSpec] = [
        s for s in spec.steps if anchor + timedelta(days=s.offset_days) <= now
    ]
    future = [s for s in spec.steps if anchor + timedelta(days=s.offset_days) > now]
    if past:
        latest = past[-1]
        at = anchor + timedelta(days=latest.offset_days)
        if not future or now - at <= timedelta(days=stale_after_days):
            planned.append(PlannedStep(spec.name, latest.name, now))
    planned.extend(
        PlannedStep(spec.name, s.name, anchor + timedelta(days=s.offset_days)) for s in future
    )
    return planned
