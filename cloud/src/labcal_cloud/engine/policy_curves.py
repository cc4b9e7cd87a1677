"""Calibration policies scored as curves: days out of tolerance against what they spend (pure).

Each policy family is swept over its own knob (``policy_grid``): fixed intervals (1 to 24
months), usage intervals (every N cycles), the earlier of the two, and the forecaster (alert
probability × guard band × lead days × quick-check / calibration schedule). A policy's *cost*
counts calibration visits and quick checks at their own price (:class:`VisitCosts`); it is
expressed in *visits per device-year* (calibration-visit equivalents) and in money.

The grids are fixed here, in code, before any scored run (see ``docs/forecasting.md``): the
benchmark picks the forecaster's operating point per budget on tuning seeds only, then scores
that choice on other seeds.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from labcal_cloud.engine.backtest import Policy, Score
from labcal_cloud.engine.errors import PolicyError

__all__ = [
    "FAMILIES",
    "CurvePoint",
    "VisitCosts",
    "best_at_budget",
    "forecaster_grid",
    "pareto_front",
    "point_from_score",
    "policy_grid",
    "simple_grid",
]

FAMILIES = ("fixed interval", "usage interval", "earlier of both", "forecaster")
NEVER_DAYS = 100 * 365  # "no time interval" for a usage-only policy

FIXED_MONTHS = tuple(range(1, 25))
USAGE_CYCLES = (2_000, 3_000, 5_000, 7_500, 10_000, 15_000, 20_000, 30_000, 50_000, 100_000)
EARLIER_MONTHS = (6, 12, 24)
EARLIER_CYCLES = (5_000, 10_000, 20_000, 50_000)
ALERT_PROBABILITIES = (0.1, 0.25, 0.4)
GUARDS = (0.8, 0.9, 1.0)
LEAD_DAYS = (14.0, 30.0)
#: (quick checks every N days, or every M cycles, whichever first; calibrate at least every D)
SCHEDULES: tuple[tuple[int, float | None, int], ...] = (
    (91, 10_000.0, 365),
    (182, 20_000.0, 730),
    (182, None, 1095),
    (365, None, 1095),
)
#: rationing: alerts are acted on only for pipettes whose wear cycle is forecast to last this
#: many days (0: all); the faster-wearing ones are left to their calibrations
MIN_LIFE_DAYS = (0.0, 60.0, 120.0, 240.0)


@dataclass(frozen=True, slots=True)
class VisitCosts:
    """Price of one visit of each type (EUR by default: a technician's calibration visit; a
    quick check run by the lab at its own balance station)."""

    calibration: float = 120.0
    quick_check: float = 12.0

    def __post_init__(self) -> None:
        if self.calibration <= 0 or self.quick_check < 0:
            raise PolicyError("a calibration costs more than 0 and a quick check at least 0")

    def visits(self, calibrations: float, quick_checks: float) -> float:
        """Cost in calibration-visit equivalents."""
        return calibrations + quick_checks * self.quick_check / self.calibration


def _months(m: int) -> int:
    return round(m * 365 / 12)


def simple_grid() -> list[tuple[str, Policy]]:
    """(family, policy) of every simple policy (no forecast, no quick checks)."""
    out = [(FAMILIES[0], Policy(f"every {m} months", _months(m))) for m in FIXED_MONTHS]
    out += [
        (FAMILIES[1], Policy(f"every {n:,} cycles", NEVER_DAYS, calibration_cycles=n))
        for n in USAGE_CYCLES
    ]
    out += [
        (
            FAMILIES[2],
            Policy(f"{m} months or {n:,} cycles", _months(m), calibration_cycles=n),
        )
        for m, n in itertools.product(EARLIER_MONTHS, EARLIER_CYCLES)
    ]
    return out


def forecaster_grid(device_prior: bool = True) -> list[tuple[str, Policy]]:
    """(family, policy) of every forecaster setting."""
    out = []
    for p, g, lead, (qc_days, qc_cycles, cap), life in itertools.product(
        ALERT_PROBABILITIES, GUARDS, LEAD_DAYS, SCHEDULES, MIN_LIFE_DAYS
    ):
        qc = f"{qc_days} d" + (f" or {qc_cycles:,.0f} cycles" if qc_cycles else "")
        name = f"p {p:g}, guard {g:g}, lead {lead:g} d, quick check {qc}, calibrate ≤ {cap} d" + (
            f", life ≥ {life:g} d" if life else ""
        )
        out.append(
            (
                FAMILIES[3],
                Policy(
                    name,
                    calibration_interval_days=cap,
                    quick_check_interval_days=qc_days,
                    quick_check_cycles=qc_cycles,
                    forecast=True,
                    guard=g,
                    lead_days=lead,
                    alert_probability=p,
                    evidence_share=0.3,
                    device_prior=device_prior,
                    min_life_days=life,
                ),
            )
        )
    return out


def policy_grid() -> list[tuple[str, Policy]]:
    return simple_grid() + forecaster_grid()


@dataclass(frozen=True, slots=True)
class CurvePoint:
    """One policy setting's pooled score."""

    family: str
    policy: str
    calibrations: float  # per device-year
    quick_checks: float  # per device-year
    visits: float  # cost in calibration-visit equivalents per device-year
    cost: float  # money per device-year
    out_of_tolerance_days: float  # per device-year
    flagged_ahead: float  # share of failures serviced ≥ 14 days ahead

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def point_from_score(
    family: str, policy: Policy, scores: Sequence[Score], costs: VisitCosts
) -> CurvePoint:
    """The mean of a policy's scores over seeds as one point of its family's curve."""
    if not scores:
        raise PolicyError(f"no scores for {policy.name}")
    n = len(scores)
    cal = sum(s.calibrations_per_device_year for s in scores) / n
    qc = sum(s.quick_checks_per_device_year for s in scores) / n
    return CurvePoint(
        family,
        policy.name,
        cal,
        qc,
        costs.visits(cal, qc),
        cal * costs.calibration + qc * costs.quick_check,
        sum(s.out_of_tolerance_days_per_device_year for s in scores) / n,
        sum(s.flagged_ahead_share for s in scores) / n,
    )


def pareto_front(points: Sequence[CurvePoint]) -> list[CurvePoint]:
    """The points no other point beats on both cost and days out of tolerance, by cost."""
    front: list[CurvePoint] = []
    for p in sorted(points, key=lambda q: (q.visits, q.out_of_tolerance_days)):
        if not front or p.out_of_tolerance_days < front[-1].out_of_tolerance_days:
            front.append(p)
    return front


def best_at_budget(points: Sequence[CurvePoint], budget: float) -> CurvePoint | None:
    """The point with the fewest days out of tolerance at ≤ ``budget`` visits per device-year
    (ties: the cheaper); None when every point costs more."""
    within = [p for p in points if p.visits <= budget]
    return min(within, key=lambda p: (p.out_of_tolerance_days, p.visits), default=None)
