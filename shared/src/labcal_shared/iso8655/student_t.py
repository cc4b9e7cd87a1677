"""Student's t quantiles and the coverage factor from effective degrees of freedom (GUM G.4).

No scipy: the t distribution's CDF is the regularised incomplete beta function
``I_x(ν/2, 1/2)`` with ``x = ν/(ν + t²)`` (continued fraction, Numerical Recipes' ``betacf``
with the modified Lentz method), inverted by bisection. For ν above 10⁷ the normal quantile is
used (the difference is below 10⁻⁶).

``coverage_factor(ν_eff, p)`` follows GUM G.6.4 / EA-4/02 Annex E: ν_eff is truncated to the
next lower integer, then ``k = t_p(ν)``, the two-sided quantile with coverage probability p.
The default p is 95.45 %, for which k = 2 at ν = ∞ (EA-4/02 Table E.1: ν = 10 → 2.28).
"""

from __future__ import annotations

import math
from typing import Final

__all__ = ["DEFAULT_COVERAGE", "coverage_factor", "t_quantile", "welch_satterthwaite"]

DEFAULT_COVERAGE: Final = 0.9545
_NORMAL_DOF: Final = 1e7
_EPS: Final = 1e-15
_TINY: Final = 1e-300


def _betacf(a: float, b: float, x: float) -> float:
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, 500):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + aa / c
        c = c if abs(c) > _TINY else _TINY
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + aa / c
        c = c if abs(c) > _TINY else _TINY
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return h


def _betainc(a: float, b: float, x: float) -> float:
    """Regularised incomplete beta I_x(a, b), 0 ≤ x ≤ 1."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    ln = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x)
    front = math.exp(ln + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def _two_sided_coverage(t: float, dof: float) -> float:
    """P(|T| ≤ t) for Student's t with ``dof`` degrees of freedom."""
    return 1.0 - _betainc(dof / 2.0, 0.5, dof / (dof + t * t))


def _normal_coverage(z: float) -> float:
    return math.erf(z / math.sqrt(2.0))


def t_quantile(p: float, dof: float) -> float:
    """The t with P(|T| ≤ t) = p (two-sided) for ``dof`` > 0 degrees of freedom (∞ allowed)."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"coverage probability must be in (0, 1), got {p!r}")
    if not dof > 0:
        raise ValueError(f"degrees of freedom must be positive, got {dof!r}")
    coverage = _normal_coverage if dof > _NORMAL_DOF else (lambda t: _two_sided_coverage(t, dof))
    low, high = 0.0, 1.0
    while coverage(high) < p:
        high *= 2.0
    for _ in range(200):
        mid = (low + high) / 2.0
        if coverage(mid) < p:
            low = mid
        else:
            high = mid
        if high - low < 1e-12 * high:
            break
    return (low + high) / 2.0


def welch_satterthwaite(contributions: list[tuple[float, float]]) -> float:
    """ν_eff = u_c⁴ / Σ (u_i⁴ / ν_i) over (u_i, ν_i) pairs; ν_i = ∞ adds nothing; ∞ when no
    component has finite degrees of freedom (or u_c is 0)."""
    uc2 = math.fsum(u * u for u, _ in contributions)
    denominator = math.fsum(u**4 / dof for u, dof in contributions if math.isfinite(dof) and u)
    if denominator == 0.0 or uc2 == 0.0:
        return math.inf
    return uc2 * uc2 / denominator


def coverage_factor(effective_dof: float, p: float = DEFAULT_COVERAGE) -> float:
    """k for ν_eff (truncated to the next lower integer, at least 1) and coverage probability p."""
    if math.isnan(effective_dof):
        raise ValueError("effective degrees of freedom is NaN")
    dof = math.inf if math.isinf(effective_dof) else max(1.0, math.floor(effective_dof))
    return t_quantile(p, dof)
