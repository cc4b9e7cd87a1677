"""Standard uncertainty of the mean delivered volume, with its budget (GUM, first order).

Model: V̄ = (m̄ + m_evap) · Z(t_W, p, h_r, t_A). Components, each a standard uncertainty in µL:

- ``balance``: Z · sqrt((d/√12)² + u_bal²) — resolution d as a rectangular distribution plus the
  balance's standard uncertainty u_bal (given in :class:`BalanceSpec`, else the ISO 8655-6:2002
  table's standard uncertainty for the selected volume, else none). Treated as fully correlated
  between replicates, so not divided by √n (conservative).
- ``repeatability``: s / √n.
- ``temperature``: |∂Z/∂t_W| · u(t) · (m̄ + m_evap), ∂Z/∂t_W by central difference (h = 0.01 °C);
  default u(t) = 0.2 °C.
- ``pressure``: |∂Z/∂p| · u(p) · (m̄ + m_evap), default u(p) = 0.3 kPa (small).
- ``humidity``: |∂Z/∂h_r| · u(h_r) · (m̄ + m_evap), default u(h_r) = 10 % RH (small).
- ``evaporation``: Z · |m_evap| / (2√3) — half the correction as the half-width of a rectangular
  distribution.

u_c = sqrt(Σ u_i²), U = k · u_c with k = 2. All functions are vectorised (numpy broadcasting).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labcal_shared.iso8655.zfactor import WaterDensityModel, z_raw

__all__ = [
    "COMPONENT_DESCRIPTIONS",
    "COVERAGE_FACTOR",
    "UncertaintyArrays",
    "mean_volume_uncertainty",
    "z_sensitivities",
]

COVERAGE_FACTOR: Final = 2.0
_H_TEMP_C: Final = 0.01
_H_PRESSURE_KPA: Final = 0.01
_H_HUMIDITY_PCT: Final = 0.1

COMPONENT_DESCRIPTIONS: Final = {
    "balance": "balance resolution d/√12 and standard uncertainty, × Z",
    "repeatability": "repeatability of delivery, s/√n",
    "temperature": "water temperature through Z: |∂Z/∂t|·u(t)·mass",
    "pressure": "air pressure through Z: |∂Z/∂p|·u(p)·mass",
    "humidity": "relative humidity through Z: |∂Z/∂h|·u(h)·mass",
    "evaporation": "evaporation correction, half of it as rectangular half-width, × Z",
}

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class UncertaintyArrays:
    components: dict[str, FloatArray]
    combined_ul: FloatArray
    expanded_ul: FloatArray


def z_sensitivities(
    water_temp_c: ArrayLike,
    pressure_kpa: ArrayLike,
    humidity_pct: ArrayLike,
    air_temp_c: ArrayLike,
    model: WaterDensityModel = "tr20461",
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(∂Z/∂t_W, ∂Z/∂p, ∂Z/∂h_r) by central differences, in µL/mg per °C, kPa and % RH."""
    tw = np.asarray(water_temp_c, dtype=np.float64)
    p = np.asarray(pressure_kpa, dtype=np.float64)
    h = np.asarray(humidity_pct, dtype=np.float64)
    ta = np.asarray(air_temp_c, dtype=np.float64)
    d_t = (z_raw(tw + _H_TEMP_C, ta, p, h, model) - z_raw(tw - _H_TEMP_C, ta, p, h, model)) / (
        2 * _H_TEMP_C
    )
    d_p = (
        z_raw(tw, ta, p + _H_PRESSURE_KPA, h, model) - z_raw(tw, ta, p - _H_PRESSURE_KPA, h, model)
    ) / (2 * _H_PRESSURE_KPA)
    d_h = (
        z_raw(tw, ta, p, h + _H_HUMIDITY_PCT, model) - z_raw(tw, ta, p, h - _H_HUMIDITY_PCT, model)
    ) / (2 * _H_HUMIDITY_PCT)
    return d_t, d_p, d_h


def mean_volume_uncertainty(
    *,
    corrected_mean_mass_mg: ArrayLike,
    z: ArrayLike,
    dz: tuple[FloatArray, FloatArray, FloatArray],
    random_error_ul: ArrayLike,
    replicates: ArrayLike,
    readability_mg: ArrayLike,
    balance_u_mg: ArrayLike,
    evaporation_mg: ArrayLike,
    u_temperature_c: float,
    u_pressure_kpa: float,
    u_humidity_pct: float,
) -> UncertaintyArrays:
    """The budget as arrays (see the module docstring for each component)."""
    mass = np.asarray(corrected_mean_mass_mg, dtype=np.float64)
    zz = np.asarray(z, dtype=np.float64)
    d = np.asarray(readability_mg, dtype=np.float64)
    u_bal = np.asarray(balance_u_mg, dtype=np.float64)
    evap = np.asarray(evaporation_mg, dtype=np.float64)
    n = np.asarray(replicates, dtype=np.float64)
    s = np.asarray(random_error_ul, dtype=np.float64)
    d_t, d_p, d_h = dz
    components = {
        "balance": zz * np.sqrt((d / math.sqrt(12.0)) ** 2 + u_bal**2),
        "repeatability": s / np.sqrt(n),
        "temperature": np.abs(d_t) * u_temperature_c * mass,
        "pressure": np.abs(d_p) * u_pressure_kpa * mass,
        "humidity": np.abs(d_h) * u_humidity_pct * mass,
        "evaporation": zz * np.abs(evap) / (2.0 * math.sqrt(3.0)),
    }
    total = np.zeros(np.broadcast(*components.values()).shape, dtype=np.float64)
    for value in components.values():
        total = total + value**2
    combined = np.sqrt(total)
    return UncertaintyArrays(components, combined, COVERAGE_FACTOR * combined)
