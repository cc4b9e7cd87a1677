"""The batch path gives identical numbers to the scalar path, and refuses bad arrays."""

from __future__ import annotations

import numpy as np
import pytest

from labcal_shared.iso8655 import (
    BalanceSpec,
    Environment,
    GravimetricRun,
    MeasurementInputError,
    PipetteSpec,
    TestSeries,
    UnknownEditionError,
    evaluate_batch,
    evaluate_run,
)

# Fixed masses (no randomness in tests): 4 runs × 3 volumes (100/50/10 µL) × 10 replicates.
BASE = np.array([100.0, 50.0, 10.0])[:, None] * (1.0 + 0.002 * np.sin(np.arange(10.0) * 1.7))
MASSES = np.stack([BASE * f for f in (0.985, 1.0, 1.01, 0.99)])
WATER = np.array([18.5, 20.0, 22.3, 27.9])
AIR = np.array([18.7, 20.0, 22.0, 28.1])
PRESSURE = np.array([84.0, 101.3, 99.2, 105.0])
HUMIDITY = np.array([45.0, 50.0, 62.0, 80.0])
EVAP = np.array([[0.02, 0.01, 0.0], [0.0, 0.0, 0.0], [0.05, 0.03, 0.01], [0.01, 0.01, 0.01]])
CHANNELS = np.array([1, 8, 1, 12])
VOLUMES = (100.0, 50.0, 10.0)


def scalar_run(r: int) -> GravimetricRun:
    return GravimetricRun(
        PipetteSpec(100.0, int(CHANNELS[r])),
        BalanceSpec(0.001),
        Environment.single(float(WATER[r]), float(PRESSURE[r]), float(HUMIDITY[r]), float(AIR[r])),
        tuple(
            TestSeries(v, MASSES[r, j].tolist(), evaporation_per_cycle=float(EVAP[r, j]))
            for j, v in enumerate(VOLUMES)
        ),
    )


def test_batch_equals_scalar_exactly() -> None:
    b = evaluate_batch(
        MASSES,
        VOLUMES,
        nominal_volume_ul=100.0,
        channels=CHANNELS,
        water_temp_c=WATER,
        air_temp_c=AIR,
        pressure_kpa=PRESSURE,
        humidity_pct=HUMIDITY,
        readability_mg=0.001,
        evaporation_mg=EVAP,
    )
    assert b.mean_volume_ul.shape == (4, 3)
    for r in range(4):
        result = evaluate_run(scalar_run(r))
        assert b.z_factor[r] == result.z_factor
        assert bool(b.run_passed[r]) == result.passed
        for j, v in enumerate(result.volumes):
            assert b.mean_volume_ul[r, j] == v.mean_volume_ul
            assert b.systematic_error_ul[r, j] == v.systematic_error_ul
            assert b.systematic_error_pct[r, j] == v.systematic_error_pct
            assert b.random_error_ul[r, j] == v.random_error_ul
            assert b.cv_pct[r, j] == v.cv_pct
            assert b.mpe_systematic_ul[r] == v.mpe.systematic_ul
            assert b.mpe_random_ul[r] == v.mpe.random_ul
            assert bool(b.systematic_passed[r, j]) == v.systematic_passed
            assert bool(b.random_passed[r, j]) == v.random_passed
            assert b.combined_uncertainty_ul[r, j] == v.uncertainty.combined_ul
            assert b.expanded_uncertainty_ul[r, j] == v.uncertainty.expanded_ul
            for name, value in v.uncertainty.as_dict().items():
                assert b.uncertainty_components[name][r, j] == value, name


def test_batch_verdicts_vary() -> None:
    """The fixture is not trivially all-pass: runs 1 and 3 (masses −1.5 %, +1 %) fail at 100 µL."""
    b = evaluate_batch(
        MASSES,
        VOLUMES,
        nominal_volume_ul=100.0,
        water_temp_c=20.0,
        pressure_kpa=101.3,
        readability_mg=0.001,
    )
    assert b.run_passed.tolist() == [False, True, False, True]


def test_batch_units() -> None:
    """``unit`` converts the masses; ``evaporation_mg`` stays in mg."""
    common: dict[str, object] = {
        "nominal_volume_ul": 100.0,
        "water_temp_c": 20.0,
        "pressure_kpa": 101.3,
        "readability_mg": 0.001,
        "evaporation_mg": EVAP,
    }
    mg = evaluate_batch(MASSES, VOLUMES, **common)  # type: ignore[arg-type]
    g = evaluate_batch(MASSES / 1000.0, VOLUMES, unit="g", **common)  # type: ignore[arg-type]
    ug = evaluate_batch(MASSES * 1000.0, VOLUMES, unit="ug", **common)  # type: ignore[arg-type]
    np.testing.assert_allclose(g.mean_volume_ul, mg.mean_volume_ul, rtol=1e-12)
    np.testing.assert_allclose(ug.mean_volume_ul, mg.mean_volume_ul, rtol=1e-12)
    z = mg.z_factor[:, None]
    np.testing.assert_allclose(mg.mean_volume_ul, (MASSES.mean(axis=-1) + EVAP) * z, rtol=1e-12)


def bad(masses: np.ndarray, **overrides: object) -> None:
    kwargs: dict[str, object] = {
        "nominal_volume_ul": 100.0,
        "water_temp_c": 20.0,
        "pressure_kpa": 101.3,
        "readability_mg": 0.001,
    }
    kwargs.update(overrides)
    evaluate_batch(masses, VOLUMES, **kwargs)  # type: ignore[arg-type]


def with_value(value: float, index: tuple[int, int, int]) -> np.ndarray:
    m = MASSES.copy()
    m[index] = value
    return m


@pytest.mark.parametrize(
    ("masses", "overrides", "message"),
    [
        (with_value(np.nan, (2, 1, 4)), {}, "run 3, test volume 2, replicate 5: mass is NaN"),
        (with_value(-1.0, (0, 0, 0)), {}, "run 1, test volume 1, replicate 1: mass is negative"),
        (MASSES[:, :, :1], {}, "at least 2 replicates"),
        (MASSES[:0], {}, "masses are empty"),
        (MASSES[0], {}, r"shape \(runs, volumes, replicates\)"),
        (MASSES, {"unit": "lb"}, "unknown mass unit 'lb'"),
        (MASSES, {"water_temp_c": 50.0}, "water temperature 50 °C is outside"),
        (MASSES, {"nominal_volume_ul": 50.0}, "exceeds the nominal volume"),
        (MASSES, {"nominal_volume_ul": 150.0}, "nominal volume 150 µL is not a row"),
        (MASSES, {"readability_mg": 0.0}, "balance readability must be a positive"),
        (MASSES, {"evaporation_mg": np.nan}, "evaporation per cycle must be finite"),
        (np.zeros((1, 3, 10)), {}, "run 1, test volume 1: the mean delivered volume"),
    ],
)
def test_batch_refusals(masses: np.ndarray, overrides: dict[str, object], message: str) -> None:
    with pytest.raises(MeasurementInputError, match=message):
        bad(masses, **overrides)


def test_batch_unknown_edition() -> None:
    with pytest.raises(UnknownEditionError, match="ISO 8655-2:2022"):
        bad(MASSES, edition="ISO 8655-2:2022")
