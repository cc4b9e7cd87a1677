"""Policies as curves: the fixed grids, the cost of a visit, the fronts, and the backtest's
usage intervals, per-device prior and rationing on a small seeded synthetic fleet."""

from __future__ import annotations

import numpy as np
import pytest

from labcal_cloud.engine.backtest import (
    Policy,
    between_from_fleet,
    prior_from_fleet,
    run_backtest,
)
from labcal_cloud.engine.backtest_fleet import FleetParams, synthetic_fleet
from labcal_cloud.engine.errors import PolicyError
from labcal_cloud.engine.policy_curves import (
    FAMILIES,
    CurvePoint,
    VisitCosts,
    best_at_budget,
    forecaster_grid,
    pareto_front,
    point_from_score,
    simple_grid,
)

PARAMS = FleetParams(devices=40, warmup_days=365, horizon_days=730)


@pytest.fixture(scope="module")
def fleet():  # type: ignore[no-untyped-def]
    train = synthetic_fleet(np.random.default_rng(7), PARAMS)
    truth = synthetic_fleet(np.random.default_rng(8), PARAMS)
    prior = prior_from_fleet(train)
    return truth, prior, between_from_fleet(train, prior)


def point(visits: float, days: float, name: str = "") -> CurvePoint:
    return CurvePoint("fixed interval", name or f"{visits}/{days}", visits, 0, visits, 0, days, 0)


def test_the_grids_sweep_each_familys_own_knob() -> None:
    simple = simple_grid()
    fixed = [p for f, p in simple if f == "fixed interval"]
    assert [p.calibration_interval_days for p in fixed] == [
        round(m * 365 / 12) for m in range(1, 25)
    ]
    usage = [p for f, p in simple if f == "usage interval"]
    assert usage
    assert all(p.calibration_cycles and p.calibration_interval_days > 30 * 365 for p in usage)
    earlier = [p for f, p in simple if f == "earlier of both"]
    assert earlier
    assert all(p.calibration_cycles and p.calibration_interval_days <= 730 for p in earlier)
    assert not any(p.forecast or p.quick_check_interval_days for _, p in simple)
    fc = forecaster_grid()
    assert {f for f, _ in simple + fc} == set(FAMILIES)
    assert all(p.forecast and p.device_prior for _, p in fc)
    assert {p.alert_probability for _, p in fc} == {0.1, 0.25, 0.4}
    assert {p.guard for _, p in fc} == {0.8, 0.9, 1.0}
    assert len({p.name for _, p in simple + fc}) == len(simple) + len(fc)


def test_a_quick_check_costs_its_share_of_a_calibration_visit() -> None:
    costs = VisitCosts(calibration=100.0, quick_check=10.0)
    assert costs.visits(2.0, 5.0) == pytest.approx(2.5)
    with pytest.raises(PolicyError):
        VisitCosts(calibration=0.0)
    with pytest.raises(PolicyError):
        VisitCosts(quick_check=-1.0)


def test_front_and_budget_pick_the_fewest_days_at_the_cost() -> None:
    points = [point(1, 50), point(1.5, 60), point(2, 20), point(3, 25), point(4, 1)]
    assert [(p.visits, p.out_of_tolerance_days) for p in pareto_front(points)] == [
        (1, 50),
        (2, 20),
        (4, 1),
    ]
    assert best_at_budget(points, 3.5) == points[2]
    assert best_at_budget(points, 0.5) is None


def test_usage_intervals_calibrate_heavy_users_more(fleet) -> None:  # type: ignore[no-untyped-def]
    truth, prior, _ = fleet
    rare = run_backtest(truth, Policy("100k", 36_500, calibration_cycles=100_000), prior)
    often = run_backtest(truth, Policy("20k", 36_500, calibration_cycles=20_000), prior)
    both = run_backtest(truth, Policy("12 m or 20k", 365, calibration_cycles=20_000), prior)
    assert often.calibrations_per_device_year > 2 * rare.calibrations_per_device_year
    assert often.out_of_tolerance_days_per_device_year < rare.out_of_tolerance_days_per_device_year
    assert both.calibrations_per_device_year >= often.calibrations_per_device_year


def test_rationing_spends_less_and_the_device_prior_needs_its_covariance(fleet) -> None:  # type: ignore[no-untyped-def]
    truth, prior, between = fleet
    base = Policy(
        "fc",
        730,
        quick_check_interval_days=182,
        forecast=True,
        evidence_share=0.3,
        device_prior=True,
    )
    full = run_backtest(truth, base, prior, between)
    rationed = run_backtest(
        truth,
        Policy(**{**_fields(base), "name": "rationed", "min_life_days": 400.0}),
        prior,
        between,
    )
    assert rationed.calibrations_per_device_year < full.calibrations_per_device_year
    assert (
        rationed.out_of_tolerance_days_per_device_year >= full.out_of_tolerance_days_per_device_year
    )
    with pytest.raises(ValueError, match="between-cycle"):
        run_backtest(truth, base, prior)


def test_a_point_is_the_mean_over_seeds(fleet) -> None:  # type: ignore[no-untyped-def]
    truth, prior, _ = fleet
    pol = Policy("12 months")
    s = run_backtest(truth, pol, prior)
    p = point_from_score("fixed interval", pol, [s, s], VisitCosts())
    assert p.calibrations == pytest.approx(s.calibrations_per_device_year)
    assert p.cost == pytest.approx(120 * s.calibrations_per_device_year)
    with pytest.raises(PolicyError):
        point_from_score("fixed interval", pol, [], VisitCosts())


def _fields(p: Policy) -> dict[str, object]:
    return {f: getattr(p, f) for f in p.__dataclass_fields__}
