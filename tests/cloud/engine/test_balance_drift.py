"""Balance drift from check-weight readings."""

from __future__ import annotations

import math

import pytest

from labcal_cloud.engine.balance_drift import forecast_balance_drift
from labcal_cloud.engine.errors import PolicyError

DAYS = [float(d) for d in range(0, 100, 10)]
WOBBLE = [0.002, -0.001, 0.0, 0.001, -0.002, 0.001, 0.0, -0.001, 0.002, 0.0]


def test_steady_drift_is_forecast_to_the_guard_band() -> None:
    # +0.01 mg/day from 0; tolerance ±1 mg → guard 0.8 mg at day 80; now is day 50 (0.5 mg)
    errors = [0.01 * d + w for d, w in zip(DAYS, WOBBLE, strict=True)]
    f = forecast_balance_drift(DAYS, errors, now_day=50.0, tolerance_mg=1.0, readability_mg=0.001)
    assert f.drift_mg_per_day == pytest.approx(0.01, rel=0.05)
    assert f.days_to_guard_median == pytest.approx(30, abs=2)
    assert f.days_to_guard_early <= f.days_to_guard_median
    assert f.alert
    assert f.reason.startswith("balance maintenance alert: drift +3.6")


def test_negative_drift_counts_too() -> None:
    errors = [-0.01 * d + w for d, w in zip(DAYS, WOBBLE, strict=True)]
    f = forecast_balance_drift(DAYS, errors, now_day=0.0, tolerance_mg=1.0, readability_mg=0.001)
    assert f.days_to_guard_median == pytest.approx(80, abs=3)
    assert not f.alert


def test_stable_balance_raises_nothing() -> None:
    f = forecast_balance_drift(DAYS, WOBBLE, now_day=90.0, tolerance_mg=1.0, readability_mg=0.001)
    assert not f.alert
    assert f.days_to_guard_early > 365 or math.isinf(f.days_to_guard_early)


@pytest.mark.parametrize(
    ("days", "errors", "tol"),
    [
        ([1.0, 2.0], [0.0, 0.0], 1.0),
        ([1.0, 1.0, 1.0], [0.0, 0.1, 0.2], 1.0),
        (DAYS, WOBBLE, 0.0),
        ([1.0, 2.0, 3.0], [0.0, float("nan"), 0.1], 1.0),
    ],
)
def test_refusals(days: list[float], errors: list[float], tol: float) -> None:
    with pytest.raises(PolicyError):
        forecast_balance_drift(days, errors, now_day=3.0, tolerance_mg=tol, readability_mg=0.001)
