"""Registry entities, the engine's due state as the portal shows it, and the portal's fallback
estimate for devices the engine has not computed yet (no usage report or run received)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

__all__ = ["Device", "DueState", "DueView", "engine_due", "estimate_due"]


class DueState(StrEnum):
    """The engine's states (``labcal_cloud.engine.due.DueStatus``) plus ``unknown`` for a device
    with neither an engine state nor a calibration on record."""

    OK = "ok"
    DUE_SOON = "due_soon"
    DUE = "due"
    OVERDUE = "overdue"
    BLOCKED = "blocked"
    UNKNOWN = "unknown"


COLOURS = {
    DueState.OK: "green",
    DueState.DUE_SOON: "amber",
    DueState.DUE: "red",
    DueState.OVERDUE: "red",
    DueState.BLOCKED: "red",
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
    source: str = "estimate"
    """``engine`` (stored by ``labcal-cloud engine due``) or ``estimate`` (the fallback)."""
    forecast: str | None = None
    """The engine's maintenance forecast reason, when it has computed one."""

    @property
    def colour(self) -> str:
        return COLOURS[self.state]


def engine_due(
    device: Device, status: str, due_at: date, reason: str, forecast: str | None
) -> DueView:
    """The engine's stored due state of ``device`` (its status, due date and reason verbatim)."""
    usage = device.usage_cycles / device.cycles_limit if device.cycles_limit > 0 else None
    return DueView(DueState(status), reason, due_at, usage, "engine", forecast)


def estimate_due(device: Device, today: date, soon_days: int = 30) -> DueView:
    """Fallback for a device without an engine state: due by time (last calibration + interval)
    or usage (cycles against the device's limit)."""
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
