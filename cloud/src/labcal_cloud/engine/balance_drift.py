"""Balance drift: when will check-weight readings leave the guard band of their tolerance?

Readings of a reference (check) weight, as errors ``reading − nominal`` in mg over time, are
fitted with a straight line by least squares; the line's parameter covariance (residual
variance × (XᵀX)⁻¹, floored at the balance's readability) gives a Gaussian prediction, and the
day at which ``P(|error| ≥ guard × tolerance)`` reaches the alert probability is solved with the
same closed form as the pipette forecaster. Pure: times are days, now is passed in.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from labcal_cloud.engine.errors import PolicyError
from labcal_cloud.engine.forecast import WearPosterior, crossing_point

__all__ = ["DriftForecast", "forecast_balance_drift"]


@dataclass(frozen=True, slots=True)
class DriftForecast:
    drift_mg_per_day: float
    error_now_mg: float
    days_to_guard_early: float  # P = alert probability; inf: not within reach
    days_to_guard_median: float
    alert: bool
    reason: str


def forecast_balance_drift(
    days: Sequence[float],
    errors_mg: Sequence[float],
    *,
    now_day: float,
    tolerance_mg: float,
    readability_mg: float,
    guard: float = 0.8,
    lead_days: float = 30.0,
    alert_probability: float = 0.2,
) -> DriftForecast:
    if tolerance_mg <= 0 or readability_mg <= 0:
        raise PolicyError("tolerance and readability must be positive")
    t = np.asarray(days, dtype=np.float64)
    e = np.asarray(errors_mg, dtype=np.float64)
    if t.size < 3 or np.ptp(t) == 0:
        raise PolicyError("drift needs at least three check-weight readings on different days")
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(e))):
        raise PolicyError("check-weight readings must be finite numbers")
    x = np.column_stack((np.ones_like(t), t - now_day))  # intercept = error now
    coef, *_ = np.linalg.lstsq(x, e, rcond=None)
    residual = e - x @ coef
    sigma2 = max(float(residual @ residual) / max(t.size - 2, 1), (readability_mg / 2) ** 2)
    cov = sigma2 * np.linalg.inv(x.T @ x)
    sign = 1.0 if coef[1] >= 0 else -1.0  # look in the direction the balance drifts
    flip = np.array([sign, sign])
    post = WearPosterior(
        np.asarray(coef * flip / tolerance_mg, dtype=np.float64),
        np.asarray(cov / tolerance_mg**2, dtype=np.float64),
    )
    early = crossing_point(post, guard, alert_probability, 0.0)
    median = crossing_point(post, guard, 0.5, 0.0)
    alert = early <= lead_days
    drift = float(coef[1])
    head = f"drift {drift * 365:+.3f} mg/year, error now {float(coef[0]):+.3f} mg"
    if math.isinf(early):
        reason = f"{head}; stays within {guard:.0%} of the ±{tolerance_mg:g} mg tolerance"
    else:
        reason = (
            f"{head}; may reach {guard:.0%} of the ±{tolerance_mg:g} mg tolerance in "
            f"{early:.0f} days (median {median:.0f})"
            if not math.isinf(median)
            else f"{head}; may reach the guard band in {early:.0f} days"
        )
        if alert:
            reason = "balance maintenance alert: " + reason
    return DriftForecast(drift, float(coef[0]), early, median, alert, reason)
