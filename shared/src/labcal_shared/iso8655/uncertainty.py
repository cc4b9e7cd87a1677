"""Standard uncertainty of the mean delivered volume, with its budget (GUM, first order).

Model: V̄ = (m̄ + m_evap) · Z(t_W, p, h_r, t_A). Components, each a standard uncertainty in µL,
with its degrees of freedom ν (type B components: ν = ∞):

- ``balance``: Z · sqrt((d/√12)² + u_bal²) — resolution d as a rectangular distribution plus the
  balance's standard uncertainty u_bal: its own certified value when the station knows it
  (:class:`BalanceSpec`), else the ISO 8655-6:2002 requirement table's maximum for the selected
  volume (stated as such in the budget). Treated as fully correlated between replicates, so not
  divided by √n (conservative).
- ``repeatability``: s / √n, type A, ν = n − 1.
- ``temperature``: |∂Z/∂t_W| · u(t) · (m̄ + m_evap), ∂Z/∂t_W by central difference (h = 0.01 °C);
  default u(t) = 0.2 °C.
- ``pressure``: |∂Z/∂p| · u(p) · (m̄ + m_evap), default u(p) = 0.3 kPa (small).
- ``humidity``: |∂Z/∂h_r| · u(h_r) · (m̄ + m_evap), default u(h_r) = 10 % RH (small).
- ``evaporation``: measured: Z · |m_evap| / (2√3) — half the correction as the half-width of a
  rectangular distribution; *not measured* (no correction applied): Z · a / √3 with the assumed
  bound a of the evaporation per cycle (:class:`UncertaintyAssumptions`, default 0.02 mg), so
  knowing less never gives a smaller U.
- ``handling``: the operator's handling not seen in the repeatability (immersion depth, angle,
  rhythm), an assumed relative standard uncertainty of the test volume (default 0.02 %).

u_c = sqrt(Σ u_i²); ν_eff by Welch–Satterthwaite; U = k · u_c with k = t_p(⌊ν_eff⌋) for the
coverage probability p (default 95.45 %, k → 2 for ν → ∞; :mod:`labcal_shared.iso8655.student_t`).
All functions are vectorised (numpy broadcasting).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labcal_shared.iso8655.student_t import DEFAULT_COVERAGE, coverage_factor
from labcal_shared.iso8655.zfactor import WaterDensityModel, z_raw

__all__ = [
    "COMPONENT_DESCRIPTIONS",
    "DEFAULT_COVERAGE",
    "UncertaintyArrays",
    "coverage_factors",
    "mean_volume_uncertainty",
    "z_sensitivities",
]

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
    "handling": "operator handling beyond the repeatability (assumed share of the volume)",
}

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class UncertaintyArrays:
    components: dict[str, FloatArray]
    degrees_of_freedom: dict[str, FloatArray]
    combined_ul: FloatArray
    effective_dof: FloatArray
    coverage_factor: FloatArray
    expanded_ul: FloatArray


def coverage_factors(effective_dof: ArrayLike, p: float = DEFAULT_COVERAGE) -> FloatArray:
    """Vectorised :func:`coverage_factor` (one quantile per distinct truncated ν)."""
    nu = np.asarray(effective_dof, dtype=np.float64)
    truncated = np.where(np.isinf(nu), np.inf, np.maximum(1.0, np.floor(nu)))
    unique, index = np.unique(truncated, return_inverse=True)
    factors = np.asarray([coverage_factor(float(v), p) for v in unique], dtype=np.float64)
    return np.asarray(factors[index].reshape(truncated.shape), dtype=np.float64)


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
    volume_ul: ArrayLike,
    evaporation_measured: ArrayLike = True,
    unmeasured_evaporation_mg: float = 0.02,
    handling_rel: float = 0.0002,
    coverage_probability: float = DEFAULT_COVERAGE,
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
        "evaporation": np.where(
            np.asarray(evaporation_measured, dtype=np.bool_),
            zz * np.abs(evap) / (2.0 * math.sqrt(3.0)),
            zz * unmeasured_evaporation_mg / math.sqrt(3.0),
        ),
        "handling": handling_rel * np.asarray(volume_ul, dtype=np.float64),
    }
    shape = np.broadcast(*components.values()).shape
    components = {k: np.broadcast_to(v, shape).astype(np.float64) for k, v in components.items()}
    dofs = {k: np.full(shape, np.inf) for k in components}
    dofs["repeatability"] = np.broadcast_to(n - 1.0, shape).astype(np.float64)
    total = np.zeros(shape, dtype=np.float64)
    for value in components.values():
        total = total + value**2
    combined = np.sqrt(total)
    denominator = np.zeros(shape, dtype=np.float64)
    for name, value in components.items():  # Welch–Satterthwaite, vectorised
        dof = dofs[name]
        finite = np.isfinite(dof) & (value > 0)
        denominator = denominator + np.where(finite, value**4 / np.where(finite, dof, 1.0), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        nu_eff = np.where((denominator > 0) & (total > 0), total**2 / denominator, np.inf)
    k = coverage_factors(nu_eff, coverage_probability)
    return UncertaintyArrays(components, dofs, combined, nu_eff, k, k * combined)
