"""The visits a tenant's service policy plans, per site and week, and why (pure).

Per device, the earliest of:

- *forecast, now*: the stored forecast alerts — ``P(beyond the guard band by the visit) 0.31
  ≥ 0.25`` (the probability ``lead_days`` ahead, against the alert probability);
- *forecast, later*: the forecast's early date (where P reaches the alert probability) minus
  the lead — the week the alert is due if the pipette keeps its use;
- *interval*: the policy's longest calibration interval since the last calibration
  (``12 months since the last calibration on 3 Mar 2026``), or now without any calibration.

A pipette the budget rations (no alert, see ``forecast_maintenance``) keeps its interval visit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from labcal_cloud.engine.service_policy import DEFAULT_SETTINGS, ForecasterSettings

__all__ = ["PlannedVisit", "VisitInputs", "VisitPlan", "plan_visits"]

VisitKind = Literal["service", "calibration"]


@dataclass(frozen=True, slots=True)
class VisitInputs:
    tenant: str
    site: str  # "tenant name / site name"
    serial: str
    model: str
    last_calibration: datetime | None
    forecast_alert: bool | None = None  # None: no forecast yet
    early_at: datetime | None = None
    guard: float | None = None
    alert_probability: float | None = None
    lead_days: float | None = None
    probability_by_lead: float | None = None
    forecast_reason: str | None = None


@dataclass(frozen=True, slots=True)
class PlannedVisit:
    site: str
    week: date  # the Monday of the visit's week
    day: date
    serial: str
    model: str
    kind: VisitKind
    reason: str


@dataclass(frozen=True, slots=True)
class VisitPlan:
    weeks: tuple[date, ...]
    visits: tuple[PlannedVisit, ...]  # by week, site, serial

    @property
    def sites(self) -> list[str]:
        return sorted({v.site for v in self.visits})

    def count(self, site: str, week: date) -> int:
        return sum(1 for v in self.visits if v.site == site and v.week == week)

    def by_week(self) -> dict[date, list[PlannedVisit]]:
        out: dict[date, list[PlannedVisit]] = defaultdict(list)
        for v in self.visits:
            out[v.week].append(v)
        return dict(out)


def _monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def _months(days: int) -> str:
    months = round(days * 12 / 365)
    return f"{months} months" if months >= 1 else f"{days} days"


def _candidates(
    d: VisitInputs, s: ForecasterSettings, today: date
) -> list[tuple[date, VisitKind, str]]:
    out: list[tuple[date, VisitKind, str]] = []
    guard = f"{d.guard if d.guard is not None else s.guard:.0%} guard band"
    p_alert = d.alert_probability if d.alert_probability is not None else s.alert_probability
    if d.forecast_alert:
        p = d.probability_by_lead
        shown = f"{p:.2f}" if p is not None else "≥ alert level"
        out.append(
            (today, "service", f"P(beyond the {guard} by the visit) {shown} ≥ {p_alert:.2f}")
        )
    elif d.early_at is not None:
        lead = d.lead_days if d.lead_days is not None else s.lead_days
        day = max(today, (d.early_at - timedelta(days=lead)).date())
        out.append(
            (
                day,
                "service",
                f"forecast: P(beyond the {guard}) reaches {p_alert:.2f} on"
                f" {d.early_at:%d %b %Y}; visit {lead:g} days ahead",
            )
        )
    cap = s.calibration_interval_days
    if d.last_calibration is None:
        out.append((today, "calibration", "no calibration on record"))
    else:
        due = (d.last_calibration + timedelta(days=cap)).date()
        out.append(
            (
                max(today, due),
                "calibration",
                f"{_months(cap)} since the last calibration on {d.last_calibration:%d %b %Y}",
            )
        )
    return out


def plan_visits(
    devices: Sequence[VisitInputs],
    settings: Mapping[str, ForecasterSettings],
    today: date,
    weeks: int = 12,
) -> VisitPlan:
    """The visits of the next ``weeks`` weeks (from this week's Monday); a device's settings
    are its tenant's (``settings``), the defaults for a tenant without a choice."""
    first = _monday(today)
    horizon = first + timedelta(weeks=weeks)
    visits = []
    for d in devices:
        s = settings.get(d.tenant, DEFAULT_SETTINGS)
        day, kind, reason = min(_candidates(d, s, today), key=lambda c: c[0])
        if day < horizon:
            visits.append(PlannedVisit(d.site, _monday(day), day, d.serial, d.model, kind, reason))
    visits.sort(key=lambda v: (v.week, v.site, v.serial))
    return VisitPlan(tuple(first + timedelta(weeks=i) for i in range(weeks)), tuple(visits))
