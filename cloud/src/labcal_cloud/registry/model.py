"""Registry entities and the pure due-state estimate used until the engine's due state is wired."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

__all__ = ["Device", "DueState", "DueView", "estimate_due"]


class DueState(StrEnum):
    OK = "ok"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    UNKNOWN = "unknown"


COLOURS = {
    DueState.OK: "green",
    DueState.DUE_SOON: "amber",
    DueState.OVERDUE: "red",
    DueState.UNKNOWN: "grey",
}


@dataclass(frozen=True)
class Device:
    id: str
    tenant_id: str | None
    site_id: str | None
    make: str
    model: str
    serial: str
    nominal_volume_ul: float
    claim_code: str | None
    registered_at: datetime | None
    interval_days: int
    last_calibrated_at: datetime | None
    usage_cycles: int
    cycles_limit: int


@dataclass(frozen=True)
class DueView:
    state: DueState
    reason: str
    due_date: date | None
    usage_fraction: float | None

    @property
    def colour(self) -> str:
        return COLOURS[self.state]


def estimate_due(device: Device, today: date, soon_days: int = 30) -> DueView:
    """Due by time (last calibration + interval) or usage (cycles against the device's limit)."""
    usage = device.usage_cycles / device.cycles_limit if device.cycles_limit > 0 else None
    if device.last_calibrated_at is None:
        return DueView(DueState.UNKNOWN, "no calibration on record", None, usage)
    due = device.last_calibrated_at.date() + timedelta(days=device.interval_days)
    if usage is not None and usage >= 1.0:
        return DueView(
            DueState.OVERDUE, f"usage limit reached ({device.usage_cycles} cycles)", due, usage
        )
    if due < today:
        return DueView(DueState.OVERDUE, f"calibration overdue since {due.isoformat()}", due, usage)
    if (due - today).days <= soon_days:
        return DueView(DueState.DUE_SOON, f"calibration due on {due.isoformat()}", due, usage)
    if usage is not None and usage >= 0.9:
        return DueView(DueState.DUE_SOON, f"{usage:.0%} of the usage limit", due, usage)
    return DueView(DueState.OK, f"next calibration {due.isoformat()}", due, usage)
