"""Pure booking logic: free slots from technician capacity; the bundle of due devices per site."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from labcal_cloud.registry.model import DueState
from labcal_cloud.registry.store import DeviceLine

__all__ = ["Slot", "Technician", "bundle_for_site", "free_technician", "suggest_slots"]


@dataclass(frozen=True)
class Technician:
    id: str
    name: str
    weekdays: frozenset[int]  # 0 = Monday
    daily_slots: int


@dataclass(frozen=True)
class Slot:
    day: date
    technician_id: str
    technician: str
    free: int


def free_technician(
    techs: Sequence[Technician], booked: Mapping[tuple[date, str], int], day: date
) -> Slot | None:
    """The technician with the most free visits on ``day`` (ties: by name), or None."""
    best: Slot | None = None
    for t in sorted(techs, key=lambda t: t.name):
        if day.weekday() not in t.weekdays:
            continue
        free = t.daily_slots - booked.get((day, t.id), 0)
        if free > 0 and (best is None or free > best.free):
            best = Slot(day, t.id, t.name, free)
    return best


def suggest_slots(
    techs: Sequence[Technician],
    booked: Mapping[tuple[date, str], int],
    start: date,
    count: int = 5,
    horizon_days: int = 90,
) -> list[Slot]:
    """The first ``count`` days from ``start`` with free capacity, one slot per day."""
    slots: list[Slot] = []
    for offset in range(horizon_days):
        slot = free_technician(techs, booked, start + timedelta(days=offset))
        if slot is not None:
            slots.append(slot)
            if len(slots) == count:
                break
    return slots


def bundle_for_site(
    lines: Sequence[DeviceLine], site_id: str, today: date, weeks: int
) -> list[DeviceLine]:
    """Devices of the site overdue or due within ``weeks`` weeks (the visit's bundle)."""
    limit = today + timedelta(weeks=weeks)
    return [
        line
        for line in lines
        if line.device.site_id == site_id
        and (
            line.due.state in (DueState.OVERDUE, DueState.DUE, DueState.BLOCKED)
            or (line.due.due_date is not None and line.due.due_date <= limit)
        )
    ]
