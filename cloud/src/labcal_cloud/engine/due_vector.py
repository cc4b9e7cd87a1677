"""Due state for a whole fleet at once (numpy), following exactly the rules of
:mod:`labcal_cloud.engine.due` — times are float days since any fixed epoch.

Only status, basis and due date are vectorised; reason texts are made by the scalar path for the
devices whose state changed (a few per run), so a 1,000,000-device recomputation stays cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

from labcal_cloud.engine.due import DueBasis, DueStatus

__all__ = ["BASIS_CODES", "STATUS_CODES", "FleetDue", "FleetFacts", "compute_fleet_due"]

STATUS_CODES: Final[tuple[DueStatus, ...]] = (
    DueStatus.OK,
    DueStatus.DUE_SOON,
    DueStatus.DUE,
    DueStatus.OVERDUE,
    DueStatus.BLOCKED,
)
BASIS_CODES: Final[tuple[DueBasis, ...]] = (
    DueBasis.EVENT,
    DueBasis.USAGE,
    DueBasis.TIME,
    DueBasis.NEVER_CALIBRATED,
    DueBasis.FAILED_CALIBRATION,
    DueBasis.CALIBRATION_REVIEW,
)

F64 = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class FleetFacts:
    """One array entry per device (days since the epoch; NaN = none).

    ``event_at`` is the earliest triggering event after the last calibration (see
    :func:`labcal_cloud.engine.due.earliest_event_after`); ``cycle_limit`` NaN = no limit.
    Policy arrays may be scalars broadcast over the fleet.
    """

    registered_at: F64
    last_calibration_at: F64
    last_calibration_passed: NDArray[np.bool_]
    cycles_since_calibration: F64
    cycles_per_day: F64
    event_at: F64
    interval_days: F64 | float
    cycle_limit: F64 | float
    due_soon_days: F64 | float
    grace_days: F64 | float
    last_calibration_review: NDArray[np.bool_] | None = None  # blocked for review, not failed


@dataclass(frozen=True, slots=True)
class FleetDue:
    status: NDArray[np.int8]  # index into STATUS_CODES
    basis: NDArray[np.int8]  # index into BASIS_CODES
    due_at: F64


def compute_fleet_due(facts: FleetFacts, now: float) -> FleetDue:
    """Status, basis and due date of every device at ``now`` (days since the epoch)."""
    n = facts.registered_at.shape[0]
    inf = np.inf
    last = facts.last_calibration_at
    never = np.isnan(last)
    # candidates, in the scalar path's tie-break order: event, usage, time/never
    event = np.where(np.isnan(facts.event_at), inf, facts.event_at)
    limit = np.broadcast_to(np.asarray(facts.cycle_limit, dtype=np.float64), (n,))
    remaining = limit - facts.cycles_since_calibration
    rate = facts.cycles_per_day
    with np.errstate(divide="ignore", invalid="ignore"):
        projected = now + remaining / rate
    usage = np.where(rate > 0, projected, np.where(remaining <= 0, now, inf))
    usage = np.where(np.isnan(limit), inf, usage)
    time_due = np.where(never, facts.registered_at, last + facts.interval_days)
    stacked = np.stack((event, usage, time_due))
    pick = np.argmin(stacked, axis=0)
    due_at = np.take_along_axis(stacked, pick[np.newaxis, :], axis=0)[0]
    basis = np.where(pick == 2, np.where(never, 3, 2), pick).astype(np.int8)

    days_left = due_at - now
    status = np.full(n, 3, dtype=np.int8)  # overdue unless a better band applies
    status[days_left > -np.asarray(facts.grace_days)] = 2
    status[days_left > 0] = 1
    status[days_left > np.asarray(facts.due_soon_days)] = 0
    blocked = ~never & ~facts.last_calibration_passed
    status[blocked] = 4
    basis[blocked] = 4
    if facts.last_calibration_review is not None:
        basis[blocked & facts.last_calibration_review] = 5
    due_at = np.where(blocked, last, due_at)
    return FleetDue(status=status, basis=basis, due_at=due_at)
