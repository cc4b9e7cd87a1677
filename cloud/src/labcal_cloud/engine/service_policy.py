"""A tenant's service policy: the planner's choice on the policy curve (pure, plus the loader of
the committed curve).

The planner picks a *budget* (visits per device-year, a calibration visit = 1, a quick check
= its price share) or a *target* (days out of tolerance per device-year). The forecaster's
operating point that meets it is read off the curve ``bench/bench_policy_curves.py`` computed
(``policy_curve.json`` beside this module, committed: its points are the forecaster settings
chosen on tuning seeds and scored on others). The point gives the forecaster's parameters
(alert probability, guard band, lead days, rationing) and the visit schedule (quick checks,
the longest calibration interval).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any, Final, Literal

from labcal_cloud.engine.errors import PolicyError

__all__ = [
    "CURVE_FLEET",
    "DEFAULT_SETTINGS",
    "ForecasterSettings",
    "OperatingPoint",
    "ServicePolicy",
    "TargetKind",
    "choose_point",
    "committed_curve",
    "settings_for",
]

TargetKind = Literal["budget", "days_out_of_tolerance"]
TARGET_KINDS: Final = ("budget", "days_out_of_tolerance")
#: the fleet whose curve the engine uses: the simulator's (real usage profiles)
CURVE_FLEET: Final = "firmware-sim"


@dataclass(frozen=True, slots=True)
class ServicePolicy:
    """A tenant's stored choice."""

    tenant: str
    kind: TargetKind
    value: float
    updated_at: datetime
    updated_by: str = ""

    def __post_init__(self) -> None:
        if self.kind not in TARGET_KINDS:
            raise PolicyError(f"target must be one of {', '.join(TARGET_KINDS)}, got {self.kind}")
        if not self.value >= 0 or self.value > 365:
            raise PolicyError(f"a {self.kind} must be between 0 and 365, got {self.value}")
        if self.kind == "budget" and self.value == 0:
            raise PolicyError("a budget of 0 visits per device-year plans nothing")

    def describe(self) -> str:
        if self.kind == "budget":
            return f"budget {self.value:g} visits per device-year"
        return f"target {self.value:g} days out of tolerance per device-year"


@dataclass(frozen=True, slots=True)
class ForecasterSettings:
    alert_probability: float = 0.2
    guard: float = 0.8
    lead_days: float = 30.0
    quick_check_interval_days: int | None = 91
    quick_check_cycles: float | None = 10_000.0
    calibration_interval_days: int = 365
    min_life_days: float = 0.0


#: Without a stored choice: the forecaster's defaults (``engine forecast``'s options).
DEFAULT_SETTINGS: Final = ForecasterSettings()


@dataclass(frozen=True, slots=True)
class OperatingPoint:
    """One forecaster setting on the committed curve, with its scored figures."""

    policy: str
    visits: float  # per device-year
    out_of_tolerance_days: float  # per device-year
    flagged_ahead: float
    settings: ForecasterSettings


def _point(raw: dict[str, Any]) -> OperatingPoint:
    p = raw["parameters"]
    return OperatingPoint(
        str(raw["policy"]),
        float(raw["visits"]),
        float(raw["out_of_tolerance_days"]),
        float(raw["flagged_ahead"]),
        ForecasterSettings(
            alert_probability=float(p["alert_probability"]),
            guard=float(p["guard"]),
            lead_days=float(p["lead_days"]),
            quick_check_interval_days=p["quick_check_interval_days"],
            quick_check_cycles=p["quick_check_cycles"],
            calibration_interval_days=int(p["calibration_interval_days"]),
            min_life_days=float(p["min_life_days"]),
        ),
    )


def parse_curve(data: dict[str, Any], fleet: str = CURVE_FLEET) -> list[OperatingPoint]:
    """The forecaster's scored points of ``fleet`` in a curve file (bench --json), by cost."""
    try:
        raw = data["fleets"][fleet]["forecaster"]
        points = [_point(r) for r in raw]
    except (KeyError, TypeError, ValueError) as exc:
        raise PolicyError(f"the policy curve has no usable {fleet} forecaster points") from exc
    if not points:
        raise PolicyError(f"the policy curve has no {fleet} forecaster points")
    return sorted(points, key=lambda q: (q.visits, q.out_of_tolerance_days))


def committed_curve(fleet: str = CURVE_FLEET) -> list[OperatingPoint]:
    """The curve committed beside this module (``policy_curve.json``)."""
    text = resources.files("labcal_cloud.engine").joinpath("policy_curve.json").read_text()
    return parse_curve(json.loads(text), fleet)


def choose_point(
    points: Sequence[OperatingPoint], kind: TargetKind, value: float
) -> tuple[OperatingPoint, str]:
    """The operating point for a budget (fewest days out of tolerance at ≤ budget) or a target
    (the cheapest point at ≤ target days), and why; when none meets it, the nearest one
    (cheapest, or fewest days) and a note saying so."""
    if not points:
        raise PolicyError("no operating points to choose from")
    if kind == "budget":
        within = [p for p in points if p.visits <= value]
        if within:
            best = min(within, key=lambda p: (p.out_of_tolerance_days, p.visits))
            return best, f"fewest days out of tolerance at ≤ {value:g} visits per device-year"
        cheapest = min(points, key=lambda p: p.visits)
        return cheapest, (
            f"no forecaster setting costs ≤ {value:g} visits per device-year;"
            f" the cheapest costs {cheapest.visits:.2f}"
        )
    meets = [p for p in points if p.out_of_tolerance_days <= value]
    if meets:
        best = min(meets, key=lambda p: (p.visits, p.out_of_tolerance_days))
        return best, f"cheapest setting at ≤ {value:g} days out of tolerance per device-year"
    lowest = min(points, key=lambda p: p.out_of_tolerance_days)
    return lowest, (
        f"no forecaster setting reaches ≤ {value:g} days out of tolerance;"
        f" the lowest is {lowest.out_of_tolerance_days:.1f}"
    )


def settings_for(
    policy: ServicePolicy | None, points: Sequence[OperatingPoint]
) -> tuple[ForecasterSettings, str]:
    """The forecaster settings of a tenant's choice (defaults without one), and why."""
    if policy is None:
        return DEFAULT_SETTINGS, "no service policy chosen: the forecaster's defaults"
    point, why = choose_point(points, policy.kind, policy.value)
    return point.settings, (
        f"{policy.describe()}: {why} — {point.policy} ({point.visits:.2f} visits,"
        f" {point.out_of_tolerance_days:.1f} days out of tolerance per device-year)"
    )
