"""Service planning, pure: due and forecast-due devices per site and week, bundles, workload."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from labcal_cloud.registry.model import Device, DueState

__all__ = ["HeatMap", "PlanDevice", "forecast_due", "heat_map", "week_start"]


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def forecast_due(
    device: Device, due_by_time: date | None, weekly_cycles: float, today: date
) -> date | None:
    """The earlier of the time-based due date and the day usage reaches the device's limit."""
    by_usage = None
    if device.cycles_limit > 0 and weekly_cycles > 0:
        weeks_left = max(device.cycles_limit - device.usage_cycles, 0) / weekly_cycles
        by_usage = today + timedelta(days=int(weeks_left * 7))
    candidates = [d for d in (due_by_time, by_usage) if d is not None]
    return min(candidates) if candidates else None


@dataclass(frozen=True)
class PlanDevice:
    site: str  # "tenant / site"
    state: DueState
    due: date | None  # time-based due date
    forecast: date | None  # earlier of time and usage
    booked: bool = False  # in an active booking: planned already, not in a bundle to sell


@dataclass(frozen=True)
class HeatMap:
    weeks: list[date]
    sites: list[str]
    due: dict[tuple[str, date], int]  # (site, week) -> devices due by time (overdue: week 0)
    forecast_only: dict[tuple[str, date], int]  # due earlier than by time, because of usage
    bundles: list[tuple[str, int]]  # site, devices in the next 8 weeks (one visit), largest first
    booked: dict[str, int] = field(default_factory=dict)  # site -> devices of it booked already

    def cell(self, site: str, week: date) -> int:
        return self.due.get((site, week), 0) + self.forecast_only.get((site, week), 0)

    @property
    def peak(self) -> int:
        return max([self.cell(s, w) for s in self.sites for w in self.weeks] + [1])


def heat_map(devices: Sequence[PlanDevice], today: date, weeks: int = 12) -> HeatMap:
    first = week_start(today)
    columns = [first + timedelta(weeks=k) for k in range(weeks)]
    last = columns[-1]
    due: Counter[tuple[str, date]] = Counter()
    forecast_only: Counter[tuple[str, date]] = Counter()
    bundle: dict[str, int] = defaultdict(int)
    booked: dict[str, int] = defaultdict(int)
    horizon = today + timedelta(weeks=8)
    for d in devices:
        when = d.forecast or d.due
        if when is None:
            continue
        column = max(week_start(when), first)
        if column > last:
            continue
        if d.due is not None and week_start(max(d.due, today)) == column:
            due[(d.site, column)] += 1
        else:
            forecast_only[(d.site, column)] += 1
        if when <= horizon and d.booked:
            booked[d.site] += 1
        elif when <= horizon:
            bundle[d.site] += 1
    sites = sorted({d.site for d in devices})
    bundles = sorted(bundle.items(), key=lambda kv: (-kv[1], kv[0]))
    return HeatMap(columns, sites, dict(due), dict(forecast_only), bundles, dict(booked))
