"""The per-device (hierarchical) wear prior: the model's fleet prior shrunk toward what the
pipette's earlier wear cycles showed, by how much they vary from cycle to cycle."""

from __future__ import annotations

import pytest

from labcal_cloud.engine.device_prior import between_cycle_cov, device_prior
from labcal_cloud.engine.errors import PolicyError
from labcal_cloud.engine.forecast import WearObservation, WearPrior

MODEL = WearPrior((0.2, 0.01), ((0.01, 0.0), (0.0, 0.0001)))  # 1 % of MPE per 1000 cycles
SMALL_T = ((1e-6, 0.0), (0.0, 1e-8))
LARGE_T = ((1.0, 0.0), (0.0, 1.0))


def fast_cycle(slope_per_k: float = 0.03) -> list[WearObservation]:
    """A wear cycle observed at 0, 10k and 20k cycles, wearing ``slope_per_k`` per 1000."""
    return [WearObservation(c, 0.2 + slope_per_k * c / 1000, 0.05) for c in (0, 10_000, 20_000)]


def test_without_history_the_model_prior_is_the_device_prior() -> None:
    assert device_prior(MODEL, SMALL_T, []) == MODEL
    assert device_prior(MODEL, SMALL_T, [[], []]) == MODEL


def test_a_fast_wearing_pipette_carries_its_wear_rate_into_its_next_cycle() -> None:
    prior = device_prior(MODEL, SMALL_T, [fast_cycle(), fast_cycle()])
    assert prior.mean[1] == pytest.approx(0.03, abs=0.002)
    assert prior.cov[1][1] < MODEL.cov[1][1] / 10  # confident: cycles barely vary


def test_cycles_that_vary_a_lot_teach_little_about_the_next_one() -> None:
    prior = device_prior(MODEL, LARGE_T, [fast_cycle()])
    assert prior.mean[1] == pytest.approx(MODEL.mean[1], abs=0.001)
    assert prior.cov[1][1] > MODEL.cov[1][1]  # the next cycle may differ by T


def test_more_cycles_pull_harder_toward_the_pipettes_own_rate() -> None:
    mid_t = ((0.0004, 0.0), (0.0, 0.00005))
    one = device_prior(MODEL, mid_t, [fast_cycle()])
    three = device_prior(MODEL, mid_t, [fast_cycle()] * 3)
    assert MODEL.mean[1] < one.mean[1] < three.mean[1] < 0.03


def test_one_observation_per_cycle_is_enough_to_use_it() -> None:
    """A single as-found value (a singular information matrix) still informs the level."""
    high = [[WearObservation(0, 0.5, 0.05)]]
    prior = device_prior(MODEL, SMALL_T, high)
    assert prior.mean[0] > MODEL.mean[0] + 0.1


def test_between_cycle_covariance_is_floored_and_grows_with_the_differences() -> None:
    fits = [(0.2, 0.01), (0.25, 0.02), (0.15, 0.015), (0.3, 0.012)]
    same = between_cycle_cov(fits, fits, MODEL)
    assert same[1][1] == pytest.approx(0.25**2 * MODEL.cov[1][1])  # the floor
    other = [(a + 0.1 * (-1) ** i, b + 0.01 * (-1) ** i) for i, (a, b) in enumerate(fits)]
    assert between_cycle_cov(fits, other, MODEL)[1][1] > same[1][1]
    with pytest.raises(PolicyError, match="three devices"):
        between_cycle_cov(fits[:2], fits[:2], MODEL)
