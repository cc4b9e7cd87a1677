"""Property-based tests (hypothesis) of the statistics and of batch == scalar."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labcal_shared.iso8655 import (
    BalanceSpec,
    Environment,
    GravimetricRun,
    PipetteSpec,
    TestSeries,
    VolumeResult,
    evaluate_batch,
    evaluate_run,
    z_factor,
)

masses_st = st.lists(
    st.floats(min_value=0.5, max_value=1000.0, allow_nan=False, allow_infinity=False),
    min_size=2,
    max_size=15,
)
temp_st = st.floats(min_value=15.0, max_value=30.0)
pressure_st = st.floats(min_value=80.0, max_value=106.7)
humidity_st = st.floats(min_value=0.0, max_value=100.0)


def evaluate(
    masses: list[float], t: float = 20.0, p: float = 101.3, h: float = 50.0
) -> VolumeResult:
    run = GravimetricRun(
        PipetteSpec(10000.0),
        BalanceSpec(0.1),
        Environment.single(t, p, h),
        (TestSeries(100.0, masses),),
    )
    return evaluate_run(run).volumes[0]


@given(masses_st, temp_st, pressure_st)
def test_mean_of_masses_times_z_equals_mean_of_volumes(
    masses: list[float], t: float, p: float
) -> None:
    v = evaluate(masses, t, p)
    z = z_factor(t, p)
    assert v.mean_volume_ul == pytest.approx(math.fsum(masses) / len(masses) * z, rel=1e-12)
    assert v.mean_volume_ul == pytest.approx(
        math.fsum(m * z for m in masses) / len(masses), rel=1e-12
    )


@given(masses_st, st.floats(min_value=0.01, max_value=10.0))
def test_scaling_masses_scales_mean_and_s(masses: list[float], k: float) -> None:
    base = evaluate(masses)
    scaled = evaluate([m * k for m in masses])
    assert scaled.mean_volume_ul == pytest.approx(k * base.mean_volume_ul, rel=1e-9)
    assert scaled.random_error_ul == pytest.approx(
        k * base.random_error_ul, rel=1e-6, abs=1e-9 * k * base.mean_volume_ul
    )
    assert scaled.cv_pct == pytest.approx(base.cv_pct, rel=1e-6, abs=1e-9)


@given(masses_st, st.randoms(use_true_random=False))
def test_replicate_order_does_not_matter(masses: list[float], rnd: object) -> None:
    shuffled = list(masses)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    a, b = evaluate(masses), evaluate(shuffled)
    assert b.mean_volume_ul == pytest.approx(a.mean_volume_ul, rel=1e-12)
    assert b.random_error_ul == pytest.approx(
        a.random_error_ul, rel=1e-6, abs=1e-9 * a.mean_volume_ul
    )
    on_boundary = math.isclose(abs(a.systematic_error_ul), a.mpe.systematic_ul, rel_tol=1e-9)
    if not on_boundary:
        assert b.passed == a.passed


@settings(max_examples=50)
@given(
    st.integers(min_value=1, max_value=4),
    st.integers(min_value=2, max_value=12),
    st.data(),
)
def test_batch_equals_scalar(runs: int, replicates: int, data: st.DataObject) -> None:
    volumes = (1000.0, 500.0, 100.0)
    masses = np.array(
        data.draw(
            st.lists(
                st.lists(
                    st.lists(
                        st.floats(min_value=0.0, max_value=1100.0),
                        min_size=replicates,
                        max_size=replicates,
                    ),
                    min_size=3,
                    max_size=3,
                ),
                min_size=runs,
                max_size=runs,
            )
        )
    )
    masses[..., 0] += 1.0  # the mean of a series must be positive
    temps = np.array(data.draw(st.lists(temp_st, min_size=runs, max_size=runs)))
    pressures = np.array(data.draw(st.lists(pressure_st, min_size=runs, max_size=runs)))
    humidity = np.array(data.draw(st.lists(humidity_st, min_size=runs, max_size=runs)))
    evap = data.draw(st.floats(min_value=-0.05, max_value=0.5))
    b = evaluate_batch(
        masses,
        volumes,
        nominal_volume_ul=1000.0,
        water_temp_c=temps,
        pressure_kpa=pressures,
        humidity_pct=humidity,
        readability_mg=0.1,
        evaporation_mg=evap,
    )
    for r in range(runs):
        run = GravimetricRun(
            PipetteSpec(1000.0),
            BalanceSpec(0.1),
            Environment.single(float(temps[r]), float(pressures[r]), float(humidity[r])),
            tuple(
                TestSeries(v, masses[r, j].tolist(), evaporation_per_cycle=evap)
                for j, v in enumerate(volumes)
            ),
        )
        result = evaluate_run(run)
        assert bool(b.run_passed[r]) == result.passed
        for j, v in enumerate(result.volumes):
            assert b.mean_volume_ul[r, j] == v.mean_volume_ul
            assert b.random_error_ul[r, j] == v.random_error_ul
            assert b.cv_pct[r, j] == v.cv_pct
            # numpy and math.fsum sum the budget in different orders: allow last-ulp noise
            assert b.expanded_uncertainty_ul[r, j] == pytest.approx(
                v.uncertainty.expanded_ul, rel=1e-12
            )
