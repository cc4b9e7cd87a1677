"""Predictive maintenance: when will a pipette leave its guard band? (numpy, pure)

Model (see ``docs/forecasting.md``): the *wear ratio* ``r`` (worst error / MPE, see
:func:`labcal_cloud.engine.records.wear_ratio`) grows with cycles since service ``c``:
``r = a + b·c + ε``, ε ~ N(0, sd²) per observation (calibrations are less noisy than quick
checks). The fleet of the pipette's model gives a Gaussian prior on ``(a, b)``; the pipette's own
observations update it (conjugate Bayesian linear regression). At ``c`` the prediction is
``N(m(c), v(c))``; the cycle count at which ``P(r ≥ guard)`` first reaches ``p`` is solved in
closed form (a quadratic), and projected to a date with the recent usage rate.
Cycles are handled in thousands internally so the matrices stay well conditioned.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from numpy.typing import NDArray

from labcal_cloud.engine.due import format_count
from labcal_cloud.engine.errors import PolicyError

__all__ = [
    "MaintenanceForecast",
    "WearObservation",
    "WearPosterior",
    "WearPrior",
    "crossing_cycles",
    "crossing_point",
    "fit_line",
    "fleet_prior",
    "forecast_maintenance",
    "normal_cdf",
    "normal_quantile",
    "wear_posterior",
]

K = 1000.0  # cycles per internal unit
F64 = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class WearObservation:
    cycles: float  # cycles since service
    ratio: float  # wear ratio measured (1.0 = at the MPE)
    sd: float  # its standard deviation (measurement noise)


@dataclass(frozen=True, slots=True)
class WearPrior:
    """Gaussian prior on (intercept, slope per 1000 cycles) from the model's fleet."""

    mean: tuple[float, float]
    cov: tuple[tuple[float, float], tuple[float, float]]


@dataclass(frozen=True, slots=True)
class WearPosterior:
    mean: F64  # (2,) intercept, slope per 1000 cycles
    cov: F64  # (2, 2)


def normal_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


@functools.lru_cache(maxsize=256)
def normal_quantile(p: float) -> float:
    """Φ⁻¹(p) by bisection on erf (p in (0, 1); cached: a policy uses a few p only)."""
    if not 0.0 < p < 1.0:
        raise PolicyError(f"probability must be in (0, 1), got {p}")
    lo, hi = -40.0, 40.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if normal_cdf(mid) < p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def fit_line(cycles: Sequence[float], ratios: Sequence[float]) -> tuple[float, float]:
    """Least-squares (intercept, slope per 1000 cycles)."""
    x = np.asarray(cycles, dtype=np.float64) / K
    y = np.asarray(ratios, dtype=np.float64)
    if x.size < 2 or np.ptp(x) == 0:
        raise PolicyError("a line needs at least two observations at different cycle counts")
    slope, intercept = np.polyfit(x, y, 1)
    return float(intercept), float(slope)


def fleet_prior(fits: Sequence[tuple[float, float]], inflate: float = 1.5) -> WearPrior:
    """Prior from per-device fits of the model's fleet: the median of each coefficient and a
    robust spread (1.4826 · MAD, inflated), independent.

    Robust on purpose: wear rates across a fleet are skewed (a few pipettes wear out fast), so
    the mean would put every pipette close to the fast ones and alarm too early; the fast ones
    show themselves in their own quick checks.
    """
    arr = np.asarray(fits, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] < 3:
        raise PolicyError("a fleet prior needs fits of at least three devices")
    median = np.median(arr, axis=0)
    spread = 1.4826 * np.median(np.abs(arr - median), axis=0) * inflate
    spread = np.maximum(spread, 1e-6)
    return WearPrior(
        (float(median[0]), float(median[1])),
        ((float(spread[0] ** 2), 0.0), (0.0, float(spread[1] ** 2))),
    )


def wear_posterior(prior: WearPrior, observations: Sequence[WearObservation]) -> WearPosterior:
    """Conjugate update of the prior with the pipette's observations since its last service."""
    m0 = np.asarray(prior.mean, dtype=np.float64)
    precision0 = np.linalg.inv(np.asarray(prior.cov, dtype=np.float64))
    if not observations:
        return WearPosterior(m0, np.asarray(np.linalg.inv(precision0), dtype=np.float64))
    x = np.array([[1.0, o.cycles / K] for o in observations])
    w = np.array([1.0 / (o.sd * o.sd) for o in observations])
    y = np.array([o.ratio for o in observations])
    precision = precision0 + x.T @ (x * w[:, None])
    cov = np.linalg.inv(precision)
    mean = cov @ (precision0 @ m0 + x.T @ (w * y))
    return WearPosterior(np.asarray(mean, dtype=np.float64), np.asarray(cov, dtype=np.float64))


def _prob_at_least(post: WearPosterior, c: float, guard: float) -> float:
    u = np.array([1.0, c])
    m = float(u @ post.mean)
    v = float(u @ post.cov @ u)
    return normal_cdf((m - guard) / math.sqrt(max(v, 1e-300)))


def crossing_cycles(post: WearPosterior, guard: float, p: float, cycles_now: float) -> float:
    """Smallest cycle count ≥ ``cycles_now`` where ``P(r ≥ guard) ≥ p`` (inf if never)."""
    return crossing_point(post, guard, p, cycles_now / K) * K


def crossing_point(post: WearPosterior, guard: float, p: float, x_now: float) -> float:
    """Smallest ``x ≥ x_now`` where ``P(a + b·x ≥ guard) ≥ p`` under the Gaussian ``post``
    (x in the posterior's own unit), or inf if never."""
    c0 = x_now
    if _prob_at_least(post, c0, guard) >= p:
        return x_now
    z = normal_quantile(p)
    ma, mb = float(post.mean[0]) - guard, float(post.mean[1])
    vaa, vab, vbb = float(post.cov[0, 0]), float(post.cov[0, 1]), float(post.cov[1, 1])
    # (ma + mb c)² = z² (vaa + 2 vab c + vbb c²), with sign(ma + mb c) = sign(z)
    qa = mb * mb - z * z * vbb
    qb = 2 * ma * mb - 2 * z * z * vab
    qc = ma * ma - z * z * vaa
    roots: list[float] = []
    if abs(qa) < 1e-15:
        if qb != 0:
            roots.append(-qc / qb)
    else:
        # a slightly negative discriminant is rounding at a double root (p = 0.5): use 0,
        # the check below drops roots that do not meet P = p
        sq = math.sqrt(max(qb * qb - 4 * qa * qc, 0.0))
        roots.extend(((-qb - sq) / (2 * qa), (-qb + sq) / (2 * qa)))
    valid = [r for r in roots if r >= c0 and abs(_prob_at_least(post, r, guard) - p) < 1e-4]
    return min(valid) if valid else math.inf


@dataclass(frozen=True, slots=True)
class MaintenanceForecast:
    """When the pipette will likely leave the guard band (cycles since service and dates)."""

    guard: float
    cycles_now: float
    cycles_early: float  # P(r ≥ guard) = alert probability
    cycles_median: float  # P = 0.5
    cycles_late: float  # P = 0.9
    early_at: datetime | None  # None: no usage, or never within the model's reach
    median_at: datetime | None
    late_at: datetime | None
    alert: bool
    reason: str
    alert_probability: float = 0.2
    lead_days: float = 30.0
    #: P(r ≥ guard) at the cycles expected ``lead_days`` from now (the visit's horizon)
    probability_by_lead: float = 0.0


def _date_of(cycles: float, now: datetime, cycles_now: float, rate: float) -> datetime | None:
    if math.isinf(cycles) or rate <= 0:
        return None if cycles > cycles_now else now
    days = (cycles - cycles_now) / rate
    return now + timedelta(days=min(days, 36_500.0))


def forecast_maintenance(
    prior: WearPrior,
    observations: Sequence[WearObservation],
    *,
    cycles_now: float,
    cycles_per_day: float,
    now: datetime,
    guard: float = 0.8,
    lead_days: float = 30.0,
    alert_probability: float = 0.2,
    min_life_days: float = 0.0,
    cycles_at_service_days: float | None = None,
) -> MaintenanceForecast:
    """Forecast and alert: raise a maintenance alert when the early date (P = alert
    probability) is within ``lead_days``.

    Rationing (a planner's small budget, see ``docs/forecasting.md``): with ``min_life_days``
    > 0 no alert is raised when the wear cycle is forecast to last fewer days than that from
    its service (``cycles_at_service_days``: days since the service; the median crossing at
    the current use); such a pipette is left to its scheduled calibrations."""
    post = wear_posterior(prior, observations)
    early = crossing_cycles(post, guard, alert_probability, cycles_now)
    median = crossing_cycles(post, guard, 0.5, cycles_now)
    late = crossing_cycles(post, guard, 0.9, cycles_now)
    early_at = _date_of(early, now, cycles_now, cycles_per_day)
    median_at = _date_of(median, now, cycles_now, cycles_per_day)
    late_at = _date_of(late, now, cycles_now, cycles_per_day)
    alert = early_at is not None and early_at <= now + timedelta(days=lead_days)
    by_lead = _prob_at_least(post, (cycles_now + cycles_per_day * lead_days) / K, guard)
    band = f"{guard:.0%} guard band"
    life = math.inf
    if min_life_days > 0 and cycles_per_day > 0 and not math.isinf(median):
        life = (cycles_at_service_days or 0.0) + (median - cycles_now) / cycles_per_day
    rationed = life < min_life_days
    alert = alert and not rationed
    if early_at is None:
        reason = f"no crossing of the {band} foreseen at the current use"
    else:
        d_early = max(0, int((early_at - now) / timedelta(days=1)))
        span = (
            f"median {int((median_at - now) / timedelta(days=1))} days"
            if median_at is not None
            else "median beyond reach"
        )
        reason = (
            f"likely to leave the {band} in {d_early} days or more ({span}; "
            f"{format_count(cycles_now)} cycles since service at "
            f"{format_count(cycles_per_day)}/day)"
        )
        if alert:
            reason = "maintenance alert: " + reason
        elif rationed:
            reason += (
                f"; no alert: wears out {life:.0f} days after service (< {min_life_days:.0f},"
                " the budget leaves it to its calibrations)"
            )
    return MaintenanceForecast(
        guard,
        cycles_now,
        early,
        median,
        late,
        early_at,
        median_at,
        late_at,
        alert,
        reason,
        alert_probability,
        lead_days,
        by_lead,
    )
