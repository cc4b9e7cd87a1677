"""Mass-to-volume conversion factor Z (µL/mg) from water density, air density and weight density.

    Z = 1000 / (ρ_W − ρ_A) · (1 − ρ_A / ρ_B)          [µL/mg; densities in kg/m³]

Sources (see docs/iso8655.md and the team reference, §3):
- water density ρ_W: ISO/TR 20461:2000 polynomial with the Cor.1:2008 coefficients (default), or
  Tanaka et al. 2001 (air-free water), which the corrigendum allows;
- air density ρ_A: the OIML R 111 / "ISO 8655-6:2022" form
  ``ρ_A = (0.34848·p − 0.009·h_r·exp(0.061·t)) / (273.15 + t)`` with p in hPa, h_r in %, t in °C;
- ρ_B = 8000 kg/m³, the conventional density of the balance's reference weights.

Accepted input ranges (refused with :class:`MeasurementInputError` outside them):
water and air temperature 10–40 °C (the water polynomial is quoted valid for 5–40 °C; below 10 °C
no gravimetric pipette test is plausible), pressure 50–110 kPa, relative humidity 0–100 %, no NaN.
"""

from __future__ import annotations

from typing import Final, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labcal_shared.errors import MeasurementInputError

__all__ = [
    "AIR_TEMP_RANGE_C",
    "HUMIDITY_RANGE_PCT",
    "PRESSURE_RANGE_KPA",
    "WATER_TEMP_RANGE_C",
    "WEIGHT_DENSITY_KG_M3",
    "WaterDensityModel",
    "air_density",
    "water_density",
    "z_factor",
    "z_factor_array",
    "z_raw",
]

WaterDensityModel = Literal["tr20461", "tanaka2001"]

WEIGHT_DENSITY_KG_M3: Final = 8000.0
WATER_TEMP_RANGE_C: Final = (10.0, 40.0)
AIR_TEMP_RANGE_C: Final = (10.0, 40.0)
PRESSURE_RANGE_KPA: Final = (50.0, 110.0)
HUMIDITY_RANGE_PCT: Final = (0.0, 100.0)

# ISO/TR 20461:2000 as corrected by Cor.1:2008 (a2 and a4 fixed by the corrigendum).
_TR20461: Final = (999.85308, 6.32693e-2, -8.523829e-3, 6.943248e-5, -3.821216e-7)
# Tanaka et al. 2001, air-free water.
_TANAKA_A1: Final = -3.983035
_TANAKA_A2: Final = 301.797
_TANAKA_A3: Final = 522528.9
_TANAKA_A4: Final = 69.34881
_TANAKA_A5: Final = 999.974950

FloatArray = NDArray[np.float64]


def _as_array(name: str, value: ArrayLike) -> FloatArray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise MeasurementInputError(f"{name} must be a number, got {value!r}") from exc
    if np.isnan(arr).any():
        raise MeasurementInputError(f"{name} is NaN; every environment value must be a number")
    return arr


def _check_range(name: str, arr: FloatArray, bounds: tuple[float, float], unit: str) -> None:
    low, high = bounds
    bad = (arr < low) | (arr > high)
    if bad.any():
        first = float(arr[bad].flat[0])
        raise MeasurementInputError(
            f"{name} {first:g} {unit} is outside the accepted range {low:g}–{high:g} {unit}"
        )


def water_density(temp_c: ArrayLike, model: WaterDensityModel = "tr20461") -> FloatArray:
    """Density of pure water in kg/m³ at ``temp_c`` (no range check; see :func:`z_factor_array`)."""
    t = np.asarray(temp_c, dtype=np.float64)
    if model == "tr20461":
        a0, a1, a2, a3, a4 = _TR20461
        return np.asarray(a0 + t * (a1 + t * (a2 + t * (a3 + t * a4))), dtype=np.float64)
    if model == "tanaka2001":
        num = (t + _TANAKA_A1) ** 2 * (t + _TANAKA_A2)
        return np.asarray(
            _TANAKA_A5 * (1.0 - num / (_TANAKA_A3 * (t + _TANAKA_A4))), dtype=np.float64
        )
    raise MeasurementInputError(
        f"unknown water density model {model!r}; choose 'tr20461' or 'tanaka2001'"
    )


def air_density(temp_c: ArrayLike, pressure_kpa: ArrayLike, humidity_pct: ArrayLike) -> FloatArray:
    """Density of moist air in kg/m³ (OIML R 111 approximation; pressure converted to hPa)."""
    t = np.asarray(temp_c, dtype=np.float64)
    p_hpa = np.asarray(pressure_kpa, dtype=np.float64) * 10.0
    h = np.asarray(humidity_pct, dtype=np.float64)
    return np.asarray(
        (0.34848 * p_hpa - 0.009 * h * np.exp(0.061 * t)) / (273.15 + t), dtype=np.float64
    )


def z_factor_array(
    water_temp_c: ArrayLike,
    pressure_kpa: ArrayLike,
    humidity_pct: ArrayLike = 50.0,
    air_temp_c: ArrayLike | None = None,
    *,
    water_density_model: WaterDensityModel = "tr20461",
) -> FloatArray:
    """Vectorised Z factor in µL/mg; arguments broadcast against each other like numpy arrays.

    ``air_temp_c`` defaults to the water temperature. Raises :class:`MeasurementInputError` on NaN
    or on a value outside the accepted ranges (module docstring).
    """
    tw = _as_array("water temperature", water_temp_c)
    p = _as_array("pressure", pressure_kpa)
    h = _as_array("relative humidity", humidity_pct)
    ta = tw if air_temp_c is None else _as_array("air temperature", air_temp_c)
    _check_range("water temperature", tw, WATER_TEMP_RANGE_C, "°C")
    _check_range("air temperature", ta, AIR_TEMP_RANGE_C, "°C")
    _check_range("pressure", p, PRESSURE_RANGE_KPA, "kPa")
    _check_range("relative humidity", h, HUMIDITY_RANGE_PCT, "%")
    return z_raw(tw, ta, p, h, water_density_model)


def z_raw(
    water_temp_c: ArrayLike,
    air_temp_c: ArrayLike,
    pressure_kpa: ArrayLike,
    humidity_pct: ArrayLike,
    model: WaterDensityModel = "tr20461",
) -> FloatArray:
    """Z in µL/mg without input checks (used for numerical derivatives near the range ends)."""
    rho_w = water_density(water_temp_c, model)
    rho_a = air_density(air_temp_c, pressure_kpa, humidity_pct)
    z = 1000.0 / (rho_w - rho_a) * (1.0 - rho_a / WEIGHT_DENSITY_KG_M3)
    return np.asarray(z, dtype=np.float64)


def z_factor(
    water_temp_c: float,
    pressure_kpa: float,
    humidity_pct: float = 50.0,
    air_temp_c: float | None = None,
    *,
    water_density: WaterDensityModel = "tr20461",
) -> float:
    """Z factor in µL/mg for one set of conditions, e.g. ``z_factor(20.0, 101.3)`` ≈ 1.002854.

    Same arithmetic as :func:`z_factor_array`, so both give identical numbers.
    """
    return float(
        z_factor_array(
            water_temp_c,
            pressure_kpa,
            humidity_pct,
            air_temp_c,
            water_density_model=water_density,
        )
    )
