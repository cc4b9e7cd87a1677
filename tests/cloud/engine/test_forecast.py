"""Forecaster: posterior, guard crossing, alert and its reason."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from labcal_cloud.engine.errors import PolicyError
from labcal_cloud.engine.forecast import (
    WearObservation,
    WearPrior,
    crossing_cycles,
    fit_line,
    fleet_prior,
    forecast_maintenance,
    normal_cdf,
    normal_quantile,
    wear_posterior,
)

NOW = datetime(2026, 11, 23, tzinfo=UTC)
PRIOR = WearPrior((0.2, 0.01), ((0.01, 0.0), (0.0, 0.0001)))  # slope per 1000 cycles


def test_normal_quantile_inverts_cdf() -> None:
    for p in (0.05, 0.2, 0.5, 0.9):
        assert normal_cdf(normal_quantile(p)) == pytest.approx(p, abs=1e-9)
    with pytest.raises(PolicyError):
        normal_quantile(1.0)


def test_posterior_without_observations_is_the_prior() -> None:
    post = wear_posterior(PRIOR, [])
    assert post.mean.tolist() == [0.2, 0.01]
    assert post.cov[1, 1] == pytest.approx(0.0001)


def test_precise_observations_dominate_the_prior() -> None:
    # true line: 0.1 + 0.02 per 1000 cycles, observed with tiny noise
    obs = [WearObservation(c, 0.1 + 0.02 * c / 1000, 1e-4) for c in (0, 10_000, 20_000)]
    post = wear_posterior(PRIOR, obs)
    assert post.mean[0] == pytest.approx(0.1, abs=1e-3)
    assert post.mean[1] == pytest.approx(0.02, abs=1e-4)
    median = crossing_cycles(post, 0.8, 0.5, 20_000)
    assert median == pytest.approx(35_000, rel=1e-2)  # (0.8 − 0.1) / 0.02 per 1000


def test_crossing_quantiles_are_ordered() -> None:
    obs = [WearObservation(0, 0.2, 0.05), WearObservation(20_000, 0.45, 0.1)]
    post = wear_posterior(PRIOR, obs)
    early = crossing_cycles(post, 0.8, 0.1, 20_000)
    median = crossing_cycles(post, 0.8, 0.5, 20_000)
    late = crossing_cycles(post, 0.8, 0.9, 20_000)
    assert 20_000 < early < median < late < math.inf


def test_already_beyond_guard_crosses_now() -> None:
    post = wear_posterior(PRIOR, [WearObservation(50_000, 0.95, 0.01)])
    assert crossing_cycles(post, 0.8, 0.5, 50_000) == 50_000


def test_no_wear_never_crosses() -> None:
    flat = WearPrior((0.2, 0.0), ((1e-6, 0.0), (0.0, 1e-12)))
    assert crossing_cycles(wear_posterior(flat, []), 0.8, 0.5, 0) == math.inf


def test_alert_with_lead_time_and_reason() -> None:
    obs = [WearObservation(0, 0.2, 0.05), WearObservation(25_000, 0.7, 0.05)]
    near = forecast_maintenance(PRIOR, obs, cycles_now=25_000, cycles_per_day=500, now=NOW)
    assert near.alert
    assert near.early_at is not None
    assert near.early_at <= NOW + timedelta(days=30)
    assert near.reason.startswith("maintenance alert: likely to leave the 80% guard band in ")
    assert "25,000 cycles since service at 500/day" in near.reason
    slow = forecast_maintenance(PRIOR, obs, cycles_now=25_000, cycles_per_day=5, now=NOW)
    assert not slow.alert
    assert slow.median_at is not None
    assert slow.median_at > NOW + timedelta(days=365)


def test_without_usage_there_is_no_date() -> None:
    obs = [WearObservation(0, 0.2, 0.05)]
    f = forecast_maintenance(PRIOR, obs, cycles_now=1000, cycles_per_day=0, now=NOW)
    assert f.early_at is None
    assert not f.alert
    assert f.reason == "no crossing of the 80% guard band foreseen at the current use"


def test_fleet_prior_is_robust_to_a_few_fast_wearers() -> None:
    fits = [(0.2, 0.01)] * 8 + [(0.2, 0.011)] * 8 + [(0.2, 0.5)] * 2
    prior = fleet_prior(fits)
    assert prior.mean[1] == pytest.approx(0.0105, abs=1e-3)
    with pytest.raises(PolicyError, match="three"):
        fleet_prior(fits[:2])


def test_fit_line_and_its_refusals() -> None:
    a, b = fit_line([0, 1000, 2000], [0.1, 0.2, 0.3])
    assert (a, b) == (pytest.approx(0.1), pytest.approx(0.1))
    with pytest.raises(PolicyError):
        fit_line([5], [0.1])
    assert np.isfinite(b)
