"""Per-series statistics of a gravimetric test, on numpy arrays with replicates on the last axis.

Both the scalar path (:mod:`evaluate`) and the batch path (:mod:`batch`) call these functions, so
they give identical numbers. Formulas (reference §4, manufacturers' ISO 8655-6 procedures):

    V_i  = (m_i + m_evap) · Z
    V̄    = Σ V_i / n
    e_s  = V̄ − V_s                 e_s% = 100 · e_s / V_s
    s    = sqrt(Σ (V_i − V̄)² / (n − 1))      CV% = 100 · s / V̄
    pass = |e_s| ≤ MPE_sys  and  s ≤ MPE_rand
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["SeriesStatistics", "series_statistics"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class SeriesStatistics:
    """Arrays of shape ``masses.shape[:-1]`` (``volumes_ul`` keeps the replicate axis)."""

    volumes_ul: FloatArray
    mean_volume_ul: FloatArray
    systematic_error_ul: FloatArray
    systematic_error_pct: FloatArray
    random_error_ul: FloatArray
    cv_pct: FloatArray
    systematic_passed: NDArray[np.bool_]
    random_passed: NDArray[np.bool_]


def series_statistics(
    masses_mg: ArrayLike,
    evaporation_mg: ArrayLike,
    z: ArrayLike,
    volume_ul: ArrayLike,
    mpe_systematic_ul: ArrayLike,
    mpe_random_ul: ArrayLike,
) -> SeriesStatistics:
    """Statistics over the last axis of ``masses_mg``; the other arguments broadcast against
    ``masses_mg.shape[:-1]``. Inputs are assumed validated (finite, non-negative, n ≥ 2)."""
    m = np.asarray(masses_mg, dtype=np.float64)
    evap = np.asarray(evaporation_mg, dtype=np.float64)[..., np.newaxis]
    zz = np.asarray(z, dtype=np.float64)[..., np.newaxis]
    vs = np.asarray(volume_ul, dtype=np.float64)
    volumes = (m + evap) * zz
    mean = volumes.mean(axis=-1)
    s = volumes.std(axis=-1, ddof=1)
    e_s = mean - vs
    e_pct = 100.0 * e_s / vs
    with np.errstate(divide="ignore", invalid="ignore"):  # mean 0 is refused by the callers
        cv = 100.0 * s / mean
    return SeriesStatistics(
        volumes_ul=volumes,
        mean_volume_ul=mean,
        systematic_error_ul=e_s,
        systematic_error_pct=e_pct,
        random_error_ul=s,
        cv_pct=cv,
        systematic_passed=np.abs(e_s) <= np.asarray(mpe_systematic_ul, dtype=np.float64),
        random_passed=s <= np.asarray(mpe_random_ul, dtype=np.float64),
    )
