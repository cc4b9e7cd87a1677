"""Backtest on a small seeded synthetic fleet: determinism and the forecaster's edge."""

from __future__ import annotations

import numpy as np
import pytest

from labcal_cloud.engine.backtest import Policy, prior_from_fleet, run_backtest
from labcal_cloud.engine.backtest_fleet import FleetParams, PowerWear, synthetic_fleet

PARAMS = FleetParams(devices=60, warmup_days=365, horizon_days=730)
FORECAST = Policy(
    "forecast",
    calibration_interval_days=730,
    quick_check_interval_days=91,
    quick_check_cycles=20_000,
    forecast=True,
)


@pytest.fixture(scope="module")
def fleets():  # type: ignore[no-untyped-def]
    train = synthetic_fleet(np.random.default_rng(7), PARAMS)
    test = synthetic_fleet(np.random.default_rng(8), PARAMS)
    return prior_from_fleet(train), test


def test_synthetic_fleet_has_the_asked_wear(fleets) -> None:  # type: ignore[no-untyped-def]
    _, truth = fleets
    wear = truth.wear
    assert isinstance(wear, PowerWear)
    # cycles at which the true curve reaches 1.0: (1 − a) = b·(c/1000)^p
    c = 1000 * ((1 - wear.intercept) / wear.slope) ** (1 / wear.exponent)
    assert np.median(c) == pytest.approx(PARAMS.cycles_to_failure_median, rel=0.15)


def test_baseline_calibrates_once_a_year(fleets) -> None:  # type: ignore[no-untyped-def]
    prior, truth = fleets
    score = run_backtest(truth, Policy("baseline"), prior)
    assert score.calibrations_per_device_year == pytest.approx(1.0, abs=0.05)
    assert score.quick_checks_per_device_year == 0.0
    assert score.failures > 0


def test_forecaster_beats_baseline_and_is_deterministic(fleets) -> None:  # type: ignore[no-untyped-def]
    prior, truth = fleets
    baseline = run_backtest(truth, Policy("baseline"), prior)
    first = run_backtest(truth, FORECAST, prior)
    again = run_backtest(truth, FORECAST, prior)
    assert first == again
    assert first.flagged_ahead_share > baseline.flagged_ahead_share
    assert (
        first.out_of_tolerance_days_per_device_year < baseline.out_of_tolerance_days_per_device_year
    )
    assert 0.0 <= first.false_alarm_rate <= 1.0
