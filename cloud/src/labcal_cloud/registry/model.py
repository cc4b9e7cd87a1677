"""Registry entities and the engine's due state as the portal shows it (the engine computes it
for every registered device; until it has, the device's state is ``unknown``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

__all__ = ["Device", "DueState", "DueView", "engine_due", "not_computed_due"]


class DueState(StrEnum):
    """The engine's states (``labcal_cloud.engine.due.DueStatus``) plus ``unknown`` for a device
    the engine has not computed yet."""

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
    forecast: str | None = None
    """The engine's maintenance forecast reason, when it has computed one."""

    @property
    def colour(self) -> str:
        return COLOURS[self.state]


NOT_COMPUTED = "due state not computed yet"


def _usage(device: Device) -> float | None:
    return device.usage_cycles / device.cycles_limit if device.cycles_limit > 0 else None


def engine_due(
    device: Device, status: str, due_at: date, reason: str, forecast: str | None
) -> DueView:
    """The engine's stored due state of ``device`` (its status, due date and reason verbatim)."""
    return DueView(DueState(status), reason, due_at, _usage(device), forecast)


def not_computed_due(device: Device) -> DueView:
    """A registered device the engine has not computed yet (``labcal-cloud engine due``)."""
    return DueView(DueState.UNKNOWN, NOT_COMPUTED, None, _usage(device))
