"""An independent Student-t quantile for the tests: the density integrated by Simpson's rule
(not the incomplete beta function the core uses), and GUM Table G.2's printed values."""

from __future__ import annotations

import math

# GUM (JCGM 100:2008) Table G.2, t_p(ν) for p = 95 % and p = 95.45 %.
GUM_G2_95 = {
    1: 12.71,
    2: 4.30,
    3: 3.18,
    4: 2.78,
    5: 2.57,
    6: 2.45,
    7: 2.36,
    8: 2.31,
    9: 2.26,
    10: 2.23,
    12: 2.18,
    15: 2.13,
    20: 2.09,
    25: 2.06,
    30: 2.04,
    50: 2.01,
    100: 1.984,
}
GUM_G2_9545 = {1: 13.97, 2: 4.53, 3: 3.31, 4: 2.87, 5: 2.65, 6: 2.52, 7: 2.43, 8: 2.37,
               9: 2.32, 10: 2.28, 12: 2.23, 15: 2.18, 20: 2.13, 25: 2.11, 30: 2.09, 50: 2.05,
               100: 2.025}  # fmt: skip


def _density(t: float, nu: float) -> float:
    c = math.exp(math.lgamma((nu + 1) / 2) - math.lgamma(nu / 2)) / math.sqrt(nu * math.pi)
    return c * (1 + t * t / nu) ** (-(nu + 1) / 2)


def _coverage(t: float, nu: float, steps: int = 4000) -> float:
    h = t / steps
    total = _density(0, nu) + _density(t, nu)
    for i in range(1, steps):
        total += (4 if i % 2 else 2) * _density(i * h, nu)
    return 2 * total * h / 3


def reference_k(nu_eff: float, p: float = 0.9545) -> float:
    """k = t_p(⌊ν_eff⌋), by bisection on the integrated density (normal for ν = ∞)."""
    if math.isinf(nu_eff):
        lo, hi = 0.0, 10.0
        for _ in range(100):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if math.erf(mid / math.sqrt(2)) < p else (lo, mid)
        return (lo + hi) / 2
    nu = max(1, math.floor(nu_eff))
    lo, hi = 0.0, 100.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if _coverage(mid, nu) < p else (lo, mid)
    return (lo + hi) / 2
