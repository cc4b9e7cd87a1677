"""Vectorised evaluation of many runs at once (re-evaluation, simulation, analytics).

Masses come as an array of shape ``(runs, volumes, replicates)``; every other argument broadcasts:
``volume_ul`` as ``(volumes,)`` or ``(runs, volumes)``; environment, nominal volume, channels and
balance as scalars or ``(runs,)``; ``evaporation_mg`` (always mg; ``unit`` applies to the masses
only) and ``evaporation_measured`` (False: the scalar path's series without evaporation data)
as a scalar, ``(volumes,)`` or ``(runs, volumes)``. The arithmetic is the scalar path's
(same functions in :mod:`statistics`, :mod:`uncertainty`, :mod:`zfactor`, :mod:`mpe`), so the
numbers are identical to :func:`evaluate_run` on a single-sample environment. No findings here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labcal_shared.errors import MeasurementInputError
from labcal_shared.iso8655.balance import table_standard_uncertainty_mg
from labcal_shared.iso8655.inputs import PipetteKind, UncertaintyAssumptions
from labcal_shared.iso8655.mpe import DEFAULT_EDITION, mpe_arrays
from labcal_shared.iso8655.statistics import series_statistics
from labcal_shared.iso8655.uncertainty import mean_volume_uncertainty, z_sensitivities
from labcal_shared.iso8655.units import mass_factor_to_mg
from labcal_shared.iso8655.zfactor import WaterDensityModel, z_factor_array

__all__ = ["BatchResult", "evaluate_batch"]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class BatchResult:
    """Per-run arrays ``(runs,)`` and per-series arrays ``(runs, volumes)``."""

    z_factor: FloatArray
    mpe_systematic_ul: FloatArray
    mpe_random_ul: FloatArray
    mean_volume_ul: FloatArray
    systematic_error_ul: FloatArray
    systematic_error_pct: FloatArray
    random_error_ul: FloatArray
    cv_pct: FloatArray
    systematic_passed: BoolArray
    random_passed: BoolArray
    uncertainty_components: dict[str, FloatArray]
    combined_uncertainty_ul: FloatArray
    expanded_uncertainty_ul: FloatArray
    effective_dof: FloatArray
    coverage_factor: FloatArray

    @property
    def passed(self) -> BoolArray:
        """Per series ``(runs, volumes)``."""
        return self.systematic_passed & self.random_passed

    @property
    def run_passed(self) -> BoolArray:
        """Per run ``(runs,)``: every test volume passed."""
        return np.asarray(self.passed.all(axis=-1), dtype=np.bool_)


def _first_index(mask: BoolArray) -> tuple[int, ...]:
    return tuple(int(i) + 1 for i in np.argwhere(mask)[0])


def _validate_masses(m: FloatArray) -> None:
    if m.ndim != 3:
        raise MeasurementInputError(
            f"masses must have shape (runs, volumes, replicates), got shape {m.shape}"
        )
    if m.size == 0 or 0 in m.shape:
        raise MeasurementInputError(f"masses are empty (shape {m.shape}); nothing to evaluate")
    if m.shape[-1] < 2:
        raise MeasurementInputError("at least 2 replicates are needed for the random error")
    bad = ~np.isfinite(m)
    if bad.any():
        run, vol, rep = _first_index(bad)
        raise MeasurementInputError(f"run {run}, test volume {vol}, replicate {rep}: mass is NaN")
    neg = m < 0
    if neg.any():
        run, vol, rep = _first_index(neg)
        raise MeasurementInputError(
            f"run {run}, test volume {vol}, replicate {rep}: mass is negative"
        )


def evaluate_batch(
    masses: ArrayLike,
    volume_ul: ArrayLike,
    *,
    nominal_volume_ul: ArrayLike,
    water_temp_c: ArrayLike,
    pressure_kpa: ArrayLike,
    readability_mg: ArrayLike,
    humidity_pct: ArrayLike = 50.0,
    air_temp_c: ArrayLike | None = None,
    evaporation_mg: ArrayLike = 0.0,
    evaporation_measured: ArrayLike = True,
    channels: ArrayLike = 1,
    balance_u_mg: ArrayLike | None = None,
    unit: str = "mg",
    kind: PipetteKind = "air_displacement",
    edition: str = DEFAULT_EDITION,
    water_density: WaterDensityModel = "tr20461",
    assumptions: UncertaintyAssumptions | None = None,
) -> BatchResult:
    """Evaluate ``runs × volumes`` series in one go; see the module docstring for shapes."""
    factor = mass_factor_to_mg(unit)
    m = np.asarray(masses, dtype=np.float64)
    _validate_masses(m)
    m = m * factor if factor != 1.0 else m
    runs, n_vol, n = m.shape
    vs = np.broadcast_to(np.asarray(volume_ul, dtype=np.float64), (runs, n_vol))
    if not np.isfinite(vs).all() or (vs <= 0).any():
        raise MeasurementInputError("every test volume must be a positive number (µL)")
    evap = np.broadcast_to(np.asarray(evaporation_mg, dtype=np.float64), (runs, n_vol))
    if not np.isfinite(evap).all():
        raise MeasurementInputError("evaporation per cycle must be finite")
    nominal = np.broadcast_to(np.asarray(nominal_volume_ul, dtype=np.float64), (runs,))
    if (vs > nominal[:, np.newaxis]).any():
        raise MeasurementInputError("a test volume exceeds the nominal volume of its pipette")
    mpe_sys, mpe_rand = mpe_arrays(nominal, np.broadcast_to(channels, (runs,)), kind, edition)
    tw = np.broadcast_to(np.asarray(water_temp_c, dtype=np.float64), (runs,))
    ta = (
        tw
        if air_temp_c is None
        else np.broadcast_to(np.asarray(air_temp_c, dtype=np.float64), (runs,))
    )
    p = np.broadcast_to(np.asarray(pressure_kpa, dtype=np.float64), (runs,))
    h = np.broadcast_to(np.asarray(humidity_pct, dtype=np.float64), (runs,))
    z = z_factor_array(tw, p, h, ta, water_density_model=water_density)
    d = np.broadcast_to(np.asarray(readability_mg, dtype=np.float64), (runs,))
    if not np.isfinite(d).all() or (d <= 0).any():
        raise MeasurementInputError("balance readability must be a positive number (mg)")

    col = np.newaxis
    stats = series_statistics(m, evap, z[:, col], vs, mpe_sys[:, col], mpe_rand[:, col])
    if (stats.mean_volume_ul <= 0).any():
        run, vol = _first_index(stats.mean_volume_ul <= 0)
        raise MeasurementInputError(
            f"run {run}, test volume {vol}: the mean delivered volume is not positive"
        )
    if balance_u_mg is None:
        u_bal = table_standard_uncertainty_mg(vs)
    else:
        u_bal = np.broadcast_to(np.asarray(balance_u_mg, dtype=np.float64), (runs,))[:, col]
    a = assumptions or UncertaintyAssumptions()
    dz_t, dz_p, dz_h = z_sensitivities(tw, p, h, ta, water_density)
    unc = mean_volume_uncertainty(
        corrected_mean_mass_mg=stats.mean_volume_ul / z[:, col],
        z=z[:, col],
        dz=(dz_t[:, col], dz_p[:, col], dz_h[:, col]),
        random_error_ul=stats.random_error_ul,
        replicates=n,
        readability_mg=d[:, col],
        balance_u_mg=u_bal,
        evaporation_mg=evap,
        u_temperature_c=a.u_temperature_c,
        u_pressure_kpa=a.u_pressure_kpa,
        u_humidity_pct=a.u_humidity_pct,
        volume_ul=vs,
        evaporation_measured=np.broadcast_to(
            np.asarray(evaporation_measured, dtype=np.bool_), (runs, n_vol)
        ),
        unmeasured_evaporation_mg=a.unmeasured_evaporation_mg,
        handling_rel=a.handling_rel,
        coverage_probability=a.coverage_probability,
    )
    return BatchResult(
        z_factor=z,
        mpe_systematic_ul=mpe_sys,
        mpe_random_ul=mpe_rand,
        mean_volume_ul=stats.mean_volume_ul,
        systematic_error_ul=stats.systematic_error_ul,
        systematic_error_pct=stats.systematic_error_pct,
        random_error_ul=stats.random_error_ul,
        cv_pct=stats.cv_pct,
        systematic_passed=stats.systematic_passed,
        random_passed=stats.random_passed,
        uncertainty_components=unc.components,
        combined_uncertainty_ul=unc.combined_ul,
        expanded_uncertainty_ul=unc.expanded_ul,
        effective_dof=unc.effective_dof,
        coverage_factor=unc.coverage_factor,
    )
