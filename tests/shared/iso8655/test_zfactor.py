"""Z factor: reference vectors, an independently computed grid, Tanaka, vectorisation, refusals."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from labcal_shared.iso8655 import MeasurementInputError, z_factor, z_factor_array

# Published Z (µL/mg) at 101.3 kPa, 50 % RH, air temp = water temp (reference §3.2: Gilson, Biohit,
# VITLAB manuals).
PUBLISHED_101_3_KPA = [
    (15.0, 1.0020),
    (20.0, 1.0029),
    (22.0, 1.0033),
    (25.0, 1.0040),
    (30.0, 1.0054),
]

# Reference §3.2, [computed] column: exact Z to 6 decimals.
COMPUTED_101_3_KPA = [
    (15.0, 1.001973),
    (20.0, 1.002854),
    (22.0, 1.003283),
    (25.0, 1.004003),
    (30.0, 1.005396),
]

PRESSURES_KPA = (80.0, 85.3, 90.7, 93.3, 96.0, 98.7, 101.3, 104.0, 106.7)

# Z (µL/mg, 4 decimals) over 15–30 °C × 80–106.7 kPa, 50 % RH, computed once from the formula of
# reference §3.1 by a separate script (not by labcal code). Its 101.3 kPa column contains the
# published anchor cells above.
Z_GRID = {
    15.0: (1.0017, 1.0018, 1.0019, 1.0019, 1.0019, 1.0019, 1.0020, 1.0020, 1.0020),
    16.0: (1.0019, 1.0020, 1.0020, 1.0020, 1.0021, 1.0021, 1.0021, 1.0022, 1.0022),
    17.0: (1.0021, 1.0021, 1.0022, 1.0022, 1.0022, 1.0023, 1.0023, 1.0023, 1.0023),
    18.0: (1.0022, 1.0023, 1.0024, 1.0024, 1.0024, 1.0024, 1.0025, 1.0025, 1.0025),
    19.0: (1.0024, 1.0025, 1.0025, 1.0026, 1.0026, 1.0026, 1.0027, 1.0027, 1.0027),
    20.0: (1.0026, 1.0027, 1.0027, 1.0028, 1.0028, 1.0028, 1.0029, 1.0029, 1.0029),
    21.0: (1.0028, 1.0029, 1.0030, 1.0030, 1.0030, 1.0030, 1.0031, 1.0031, 1.0031),
    22.0: (1.0031, 1.0031, 1.0032, 1.0032, 1.0032, 1.0033, 1.0033, 1.0033, 1.0033),
    23.0: (1.0033, 1.0033, 1.0034, 1.0034, 1.0035, 1.0035, 1.0035, 1.0035, 1.0036),
    24.0: (1.0035, 1.0036, 1.0036, 1.0037, 1.0037, 1.0037, 1.0038, 1.0038, 1.0038),
    25.0: (1.0038, 1.0038, 1.0039, 1.0039, 1.0039, 1.0040, 1.0040, 1.0040, 1.0041),
    26.0: (1.0040, 1.0041, 1.0042, 1.0042, 1.0042, 1.0042, 1.0043, 1.0043, 1.0043),
    27.0: (1.0043, 1.0044, 1.0044, 1.0045, 1.0045, 1.0045, 1.0045, 1.0046, 1.0046),
    28.0: (1.0046, 1.0046, 1.0047, 1.0047, 1.0048, 1.0048, 1.0048, 1.0048, 1.0049),
    29.0: (1.0049, 1.0049, 1.0050, 1.0050, 1.0050, 1.0051, 1.0051, 1.0051, 1.0052),
    30.0: (1.0052, 1.0052, 1.0053, 1.0053, 1.0053, 1.0054, 1.0054, 1.0054, 1.0055),
}
GRID_CELLS = [(t, p, row[j]) for t, row in Z_GRID.items() for j, p in enumerate(PRESSURES_KPA)]


def independent_z(t: float, p_kpa: float, rh: float = 50.0, t_air: float | None = None) -> float:
    """Z written out separately from the library, straight from the reference's formulas."""
    ta = t if t_air is None else t_air
    rho_w = (
        999.85308 + 6.32693e-2 * t - 8.523829e-3 * t**2 + 6.943248e-5 * t**3 - 3.821216e-7 * t**4
    )
    rho_a = (0.34848 * (p_kpa * 10.0) - 0.009 * rh * math.exp(0.061 * ta)) / (273.15 + ta)
    return (1.0 - rho_a / 8000.0) / (rho_w - rho_a) * 1000.0


def independent_tanaka_z(t: float, p_kpa: float, rh: float = 50.0) -> float:
    rho_w = 999.974950 * (1.0 - (t - 3.983035) ** 2 * (t + 301.797) / (522528.9 * (t + 69.34881)))
    rho_a = (0.34848 * (p_kpa * 10.0) - 0.009 * rh * math.exp(0.061 * t)) / (273.15 + t)
    return (1.0 - rho_a / 8000.0) / (rho_w - rho_a) * 1000.0


@pytest.mark.parametrize(("temp_c", "published"), PUBLISHED_101_3_KPA)
def test_published_z_at_101_3_kpa(temp_c: float, published: float) -> None:
    z = z_factor(water_temp_c=temp_c, pressure_kpa=101.3)
    assert round(z, 4) == published
    assert abs(z - published) <= 0.0001


@pytest.mark.parametrize(("temp_c", "expected"), COMPUTED_101_3_KPA)
def test_computed_reference_vectors(temp_c: float, expected: float) -> None:
    assert z_factor(temp_c, 101.3) == pytest.approx(expected, abs=5e-7)


@pytest.mark.parametrize(("temp_c", "pressure_kpa", "tabled"), GRID_CELLS)
def test_grid_cell_within_0_0001(temp_c: float, pressure_kpa: float, tabled: float) -> None:
    z = z_factor(temp_c, pressure_kpa)
    assert abs(z - tabled) <= 0.0001
    assert z == pytest.approx(independent_z(temp_c, pressure_kpa), rel=1e-13)


def test_grid_covers_the_published_cells() -> None:
    column = PRESSURES_KPA.index(101.3)
    for temp_c, published in PUBLISHED_101_3_KPA:
        assert Z_GRID[temp_c][column] == published


@pytest.mark.parametrize(
    ("temp_c", "pressure_kpa", "rh", "t_air"),
    [(17.3, 88.0, 35.0, 18.1), (24.6, 103.2, 80.0, 24.0), (29.9, 95.5, 0.0, 30.2)],
)
def test_humidity_and_air_temperature_are_used(
    temp_c: float, pressure_kpa: float, rh: float, t_air: float
) -> None:
    z = z_factor(temp_c, pressure_kpa, rh, t_air)
    assert z == pytest.approx(independent_z(temp_c, pressure_kpa, rh, t_air), rel=1e-13)
    assert z != z_factor(temp_c, pressure_kpa)  # defaults (50 %, air = water) differ


@pytest.mark.parametrize("temp_c", [15.0, 20.0, 25.0, 30.0])
def test_tanaka_selectable(temp_c: float) -> None:
    z = z_factor(temp_c, 101.3, water_density="tanaka2001")
    assert z == pytest.approx(independent_tanaka_z(temp_c, 101.3), rel=1e-13)
    # Both water models agree with the published 4-decimal table within ±0.0001.
    assert abs(z - z_factor(temp_c, 101.3)) < 1e-5


def test_vectorised_matches_scalar() -> None:
    temps = np.array([15.0, 20.0, 22.5, 30.0])
    pressures = np.array([[80.0], [101.3], [106.7]])
    grid = z_factor_array(temps, pressures)
    assert grid.shape == (3, 4)
    for i, p in enumerate(pressures[:, 0]):
        for j, t in enumerate(temps):
            assert grid[i, j] == z_factor(float(t), float(p))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"water_temp_c": 9.9, "pressure_kpa": 101.3}, "water temperature 9.9 °C is outside"),
        ({"water_temp_c": 40.5, "pressure_kpa": 101.3}, "water temperature 40.5 °C is outside"),
        ({"water_temp_c": 20.0, "pressure_kpa": 49.0}, "pressure 49 kPa is outside"),
        ({"water_temp_c": 20.0, "pressure_kpa": 1013.0}, "pressure 1013 kPa is outside"),
        (
            {"water_temp_c": 20.0, "pressure_kpa": 101.3, "humidity_pct": 101.0},
            "relative humidity 101 % is outside",
        ),
        (
            {"water_temp_c": 20.0, "pressure_kpa": 101.3, "humidity_pct": -1.0},
            "relative humidity -1 % is outside",
        ),
        (
            {"water_temp_c": 20.0, "pressure_kpa": 101.3, "air_temp_c": 45.0},
            "air temperature 45 °C is outside",
        ),
        ({"water_temp_c": float("nan"), "pressure_kpa": 101.3}, "water temperature is NaN"),
        ({"water_temp_c": 20.0, "pressure_kpa": float("nan")}, "pressure is NaN"),
        (
            {"water_temp_c": 20.0, "pressure_kpa": 101.3, "humidity_pct": float("nan")},
            "relative humidity is NaN",
        ),
        (
            {"water_temp_c": 20.0, "pressure_kpa": 101.3, "air_temp_c": float("nan")},
            "air temperature is NaN",
        ),
    ],
)
def test_refuses_bad_environment(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(MeasurementInputError, match=message):
        z_factor(**kwargs)


def test_range_ends_are_accepted() -> None:
    assert z_factor(10.0, 50.0, 0.0) > 1.0
    assert z_factor(40.0, 110.0, 100.0) > 1.0


def test_vectorised_refuses_nan_anywhere() -> None:
    with pytest.raises(MeasurementInputError, match="pressure is NaN"):
        z_factor_array([20.0, 21.0], [101.3, float("nan")])


def test_unknown_water_model_refused() -> None:
    with pytest.raises(MeasurementInputError, match="unknown water density model 'iapws'"):
        z_factor(20.0, 101.3, water_density="iapws")  # type: ignore[arg-type]
