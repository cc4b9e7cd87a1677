"""A smart pipette as a physical model: delivered volume, seal wear, leaks, drops, battery.

Pure: randomness comes in as a :class:`~labcal_sim.ports.RandomSource`. The wear functions
(:func:`systematic_pct`, :func:`cv_pct`) are plain arithmetic, so they work on floats and on numpy
arrays alike — the fleet model (:mod:`labcal_sim.fleet.model`) uses the very same formulas.

* Systematic error (% of the set volume) = fresh offset + drift × (kcycles since service)
  + shifts from drops + the leak loss once a sudden leak occurred.
* Random error (CV %) = fresh CV + growth × (kcycles since service); ×3 while leaking.
* A sudden leak happens with hazard ``leak_per_kcycle`` per 1000 cycles (seal failure).
* A service (``SRV RESET`` after new seals) restores the fresh state.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labcal_sim.ports import RandomSource

__all__ = [
    "PipetteModel",
    "PipetteSpec",
    "PipetteState",
    "WearParams",
    "cv_pct",
    "systematic_pct",
]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class PipetteSpec:
    make: str = "LabCal"
    model: str = "LP-1000"
    serial: str = "LP1000-0001"
    firmware: str = "1.4.2"
    nominal_ul: float = 1000.0
    min_ul: float = 100.0
    channels: int = 1


@dataclass(frozen=True, slots=True)
class WearParams:
    systematic_pct: float = 0.15
    drift_pct_per_kcycle: float = -0.03
    cv_pct: float = 0.1
    cv_growth_pct_per_kcycle: float = 0.004
    leak_per_kcycle: float = 0.01
    leak_pct: float = -2.5
    drop_shift_sd_pct: float = 0.6
    battery_pct_per_cycle: float = 0.002


@dataclass(slots=True)
class PipetteState:
    total: int = 0
    since_service: int = 0
    shift_pct: float = 0.0
    leaking: bool = False
    battery_pct: float = 100.0
    set_ul: float | None = None
    history: list[str] = field(default_factory=list)


def systematic_pct(
    offset_pct: ArrayLike,
    drift_pct_per_kcycle: ArrayLike,
    leak_pct: ArrayLike,
    since_service: ArrayLike,
    shift_pct: ArrayLike,
    leaking: ArrayLike,
) -> FloatArray:
    """True systematic error in % of the set volume (``leaking`` is 0/1 or a bool)."""

    def f(x: ArrayLike) -> FloatArray:
        return np.asarray(x, dtype=np.float64)

    return np.asarray(
        f(offset_pct)
        + f(drift_pct_per_kcycle) * f(since_service) / 1000.0
        + f(shift_pct)
        + f(leak_pct) * f(leaking),
        dtype=np.float64,
    )


def cv_pct(
    cv0_pct: ArrayLike,
    growth_pct_per_kcycle: ArrayLike,
    since_service: ArrayLike,
    leaking: ArrayLike,
) -> FloatArray:
    """True random error (coefficient of variation) in %; three times larger while leaking."""
    cycles = np.asarray(since_service, dtype=np.float64)
    fresh = (
        np.asarray(cv0_pct, dtype=np.float64)
        + np.asarray(growth_pct_per_kcycle, dtype=np.float64) * cycles / 1000.0
    )
    return np.asarray(fresh * (1.0 + 2.0 * np.asarray(leaking, dtype=np.float64)))


class PipetteModel:
    def __init__(self, spec: PipetteSpec, params: WearParams | None = None) -> None:
        self.spec = spec
        self.params = params or WearParams()
        self.state = PipetteState(set_ul=spec.nominal_ul)

    @property
    def set_ul(self) -> float:
        return self.spec.nominal_ul if self.state.set_ul is None else self.state.set_ul

    def systematic_pct(self) -> float:
        s = self.state
        p = self.params
        return float(
            systematic_pct(
                p.systematic_pct,
                p.drift_pct_per_kcycle,
                p.leak_pct,
                s.since_service,
                s.shift_pct,
                s.leaking,
            )
        )

    def cv_pct(self) -> float:
        p, s = self.params, self.state
        return float(cv_pct(p.cv_pct, p.cv_growth_pct_per_kcycle, s.since_service, s.leaking))

    def dispense(self, rng: RandomSource) -> float:
        """One cycle at the set volume; returns the volume truly delivered (µL)."""
        s = self.state
        if not s.leaking and rng.random() < self.params.leak_per_kcycle / 1000.0:
            s.leaking = True
            s.history.append(f"leak at cycle {s.total + 1}")
        volume = self.set_ul * (1.0 + self.systematic_pct() / 100.0)
        volume += rng.gauss(0.0, self.cv_pct() / 100.0 * self.set_ul)
        s.total += 1
        s.since_service += 1
        s.battery_pct = max(0.0, s.battery_pct - self.params.battery_pct_per_cycle)
        return max(0.0, volume)

    def drop(self, rng: RandomSource) -> float:
        """The pipette fell: its calibration shifts by a random amount; returns the shift (%)."""
        shift = rng.gauss(0.0, self.params.drop_shift_sd_pct)
        self.state.shift_pct += shift
        self.state.history.append(f"drop at cycle {self.state.total}: {shift:+.3f} %")
        return shift

    def service(self) -> None:
        """New seals, readjusted: the fresh state; the lifetime counter keeps counting."""
        self.state.since_service = 0
        self.state.shift_pct = 0.0
        self.state.leaking = False
        self.state.history.append(f"service at cycle {self.state.total}")
