"""A pipette's own prior for its next wear cycle: its model's fleet prior, shrunk toward what
its earlier wear cycles showed (hierarchical normal model; numpy, pure).

Model: the line ``(a, b)`` of wear cycle ``j`` of a pipette is ``θ + δ_j`` with ``θ`` the
pipette's own wear line, ``θ ~ N(μ_model, Σ_model)`` (the fleet prior, ``forecast.fleet_prior``)
and ``δ_j ~ N(0, T)`` the cycle-to-cycle variation (a new seal wears differently). Each earlier
cycle's observations give, in information form, ``J_j = XᵀWX`` and ``h_j = XᵀWy``; integrating
its ``δ_j`` out leaves ``J'_j = J_j (I + T J_j)⁻¹`` and ``h'_j = (I + J_j T)⁻¹ h_j`` (valid when
``J_j`` is singular, e.g. one observation). The posterior of ``θ`` is then conjugate, and the
prior of the next cycle is ``N(E θ, Var θ + T)``.

``T`` is learnt from a training fleet (the spread of the difference between two wear cycles of
the same pipette: ``between_cycle_cov``), floored at a share of the fleet spread so that one
cycle's straight-line fit of a curved wear never makes the pipette's prior overconfident.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from labcal_cloud.engine.errors import PolicyError
from labcal_cloud.engine.forecast import K, WearObservation, WearPrior

__all__ = ["Cov", "Evidence", "between_cycle_cov", "cycle_evidence", "device_prior", "prior_from"]

Cov = tuple[tuple[float, float], tuple[float, float]]
F64 = NDArray[np.float64]

#: T is at least (this share of the fleet's spread)², per coefficient.
FLOOR_SHARE = 0.25


def between_cycle_cov(
    first: Sequence[tuple[float, float]],
    second: Sequence[tuple[float, float]],
    prior: WearPrior,
    floor_share: float = FLOOR_SHARE,
) -> Cov:
    """``T`` from line fits (intercept, slope per 1000 cycles) of two wear cycles of the same
    pipettes: robust variance of the difference / 2 per coefficient (independent), floored at
    ``(floor_share · fleet sd)²``."""
    a = np.asarray(first, dtype=np.float64)
    b = np.asarray(second, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 2 or a.shape[0] < 3:
        raise PolicyError("between-cycle spread needs two fits of at least three devices")
    d = a - b
    spread = 1.4826 * np.median(np.abs(d - np.median(d, axis=0)), axis=0)
    var = spread**2 / 2.0
    floor = (floor_share**2) * np.diag(np.asarray(prior.cov, dtype=np.float64))
    var = np.maximum(var, floor)
    return ((float(var[0]), 0.0), (0.0, float(var[1])))


#: A pipette's evidence on its own line θ, in information form: (Σ J'_j, Σ h'_j).
Evidence = tuple[F64, F64]


def cycle_evidence(between: Cov, observations: Sequence[WearObservation]) -> Evidence:
    """What one earlier wear cycle tells about θ: ``(J (I + T J)⁻¹, (I + J T)⁻¹ h)``."""
    x = np.array([[1.0, o.cycles / K] for o in observations])
    w = np.array([1.0 / (o.sd * o.sd) for o in observations])
    y = np.array([o.ratio for o in observations])
    j, h = x.T @ (x * w[:, None]), x.T @ (w * y)
    t = np.asarray(between, dtype=np.float64)
    eye = np.eye(2)
    return j @ np.linalg.inv(eye + t @ j), np.linalg.solve(eye + j @ t, h)


def prior_from(model: WearPrior, between: Cov, evidence: Evidence | None) -> WearPrior:
    """The next cycle's prior from the summed evidence of earlier cycles (None: the model's)."""
    if evidence is None:
        return model
    m0 = np.asarray(model.mean, dtype=np.float64)
    p0 = np.linalg.inv(np.asarray(model.cov, dtype=np.float64))
    cov_theta = np.linalg.inv(p0 + evidence[0])
    mean = cov_theta @ (p0 @ m0 + evidence[1])
    cov = cov_theta + np.asarray(between, dtype=np.float64)
    return WearPrior(
        (float(mean[0]), float(mean[1])),
        ((float(cov[0, 0]), float(cov[0, 1])), (float(cov[1, 0]), float(cov[1, 1]))),
    )


def device_prior(
    model: WearPrior, between: Cov, past_cycles: Sequence[Sequence[WearObservation]]
) -> WearPrior:
    """The prior of the pipette's next wear cycle from its model's prior and the observations
    of its earlier wear cycles (each since a service; empty cycles are skipped)."""
    evidence: Evidence | None = None
    for obs in past_cycles:
        if not obs:
            continue
        j, h = cycle_evidence(between, obs)
        evidence = (j, h) if evidence is None else (evidence[0] + j, evidence[1] + h)
    return prior_from(model, between, evidence)
