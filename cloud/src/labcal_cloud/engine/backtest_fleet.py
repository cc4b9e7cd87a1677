"""Ground truth for backtests: a fleet of pipettes with known usage and wear.

The random generator is passed in (seeded by the caller), so a fleet is reproducible. Each
device has a usage curve (cycles per day with a seasonal swing) and, for every wear cycle
(service to service), a true wear curve ``r(c) = a0 + b·c^p`` — deliberately *not* the
forecaster's straight line (p > 1: accelerating seal wear). Observation noise is drawn up
front, so both policies of a backtest see the same fleet and the same measurement noise.
An adapter from the firmware simulator's fleet produces the same :class:`FleetTruth`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "ErrorWear",
    "FleetParams",
    "FleetTruth",
    "PowerWear",
    "WearCurves",
    "synthetic_fleet",
    "wear_ratio_at",
]

F64 = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class FleetParams:
    devices: int = 1000
    warmup_days: int = 365
    horizon_days: int = 3 * 365
    rate_median: float = 150.0  # cycles per day
    rate_sigma: float = 0.8  # lognormal spread of the rate across devices
    seasonal_amplitude: float = 0.3
    cycles_to_failure_median: float = 150_000.0
    cycles_to_failure_sigma: float = 0.7
    intercept_mean: float = 0.2
    intercept_sd: float = 0.05
    exponent_range: tuple[float, float] = (1.0, 1.3)
    wear_cycles: int = 200  # wear curves drawn per device (services the simulation may use)
    noise_draws: int = 400  # standard normal draws per device for measurements


class WearCurves(Protocol):
    """True wear ratio of device ``i`` in its ``k``-th wear cycle after ``cycles`` since service."""

    @property
    def wear_cycles(self) -> int: ...

    def ratio(self, device: int, wear_cycle: int, cycles: F64) -> F64: ...

    def take(self, devices: NDArray[np.int64]) -> WearCurves:
        """The curves of some devices only (in that order)."""
        ...


@dataclass(frozen=True, slots=True)
class PowerWear:
    """``r(c) = a + b·(c/1000)^p`` per device and wear cycle (arrays of shape (n, k))."""

    intercept: F64
    slope: F64
    exponent: F64

    @property
    def wear_cycles(self) -> int:
        return int(self.intercept.shape[1])

    def ratio(self, device: int, wear_cycle: int, cycles: F64) -> F64:
        a = self.intercept[device, wear_cycle]
        b = self.slope[device, wear_cycle]
        p = self.exponent[device, wear_cycle]
        return np.asarray(a + b * np.power(np.maximum(cycles, 0.0) / 1000.0, p), dtype=np.float64)

    def take(self, devices: NDArray[np.int64]) -> PowerWear:
        return PowerWear(self.intercept[devices], self.slope[devices], self.exponent[devices])


@dataclass(frozen=True, slots=True)
class ErrorWear:
    """Errors in % of volume that grow linearly with kcycles since service, plus a sudden leak
    at ``leak_at_cycles[i, k]`` (inf: none) — the firmware simulator's pipette physics.
    Ratio = ``max(|systematic %| / MPE_sys %, CV % / MPE_random %)``; arrays of shape (n,)."""

    offset_pct: F64
    drift_pct_per_kcycle: F64
    cv_pct: F64
    cv_growth_pct_per_kcycle: F64
    leak_pct: F64
    mpe_systematic_pct: F64
    mpe_random_pct: F64
    leak_at_cycles: F64  # (n, k)

    @property
    def wear_cycles(self) -> int:
        return int(self.leak_at_cycles.shape[1])

    def ratio(self, device: int, wear_cycle: int, cycles: F64) -> F64:
        kc = np.maximum(cycles, 0.0) / 1000.0
        leaking = (cycles >= self.leak_at_cycles[device, wear_cycle]).astype(np.float64)
        sys = (
            self.offset_pct[device]
            + self.drift_pct_per_kcycle[device] * kc
            + self.leak_pct[device] * leaking
        )
        cv = (self.cv_pct[device] + self.cv_growth_pct_per_kcycle[device] * kc) * (
            1.0 + 2.0 * leaking
        )
        return np.asarray(
            np.maximum(
                np.abs(sys) / self.mpe_systematic_pct[device], cv / self.mpe_random_pct[device]
            ),
            dtype=np.float64,
        )

    def take(self, devices: NDArray[np.int64]) -> ErrorWear:
        return ErrorWear(
            *(np.asarray(getattr(self, f)[devices]) for f in self.__dataclass_fields__)
        )


@dataclass(frozen=True, slots=True)
class FleetTruth:
    """Per device ``i``; days are indexes into ``cumulative_cycles`` (day 0 = start)."""

    warmup_days: int
    horizon_days: int
    cumulative_cycles: F64  # (n, warmup + horizon + 1): counter at the start of each day
    wear: WearCurves
    first_service_day: NDArray[np.int64]  # (n,) start of the first wear cycle, in the warmup
    noise: F64  # (n, noise_draws) standard normal

    @property
    def devices(self) -> int:
        return int(self.cumulative_cycles.shape[0])

    def take(self, devices: NDArray[np.int64]) -> FleetTruth:
        """The same fleet restricted to some devices (e.g. one usage profile)."""
        return FleetTruth(
            self.warmup_days,
            self.horizon_days,
            self.cumulative_cycles[devices],
            self.wear.take(devices),
            self.first_service_day[devices],
            self.noise[devices],
        )


def wear_ratio_at(truth: FleetTruth, device: int, wear_cycle: int, cycles: F64) -> F64:
    """True wear ratio after ``cycles`` since the service that began ``wear_cycle``."""
    return truth.wear.ratio(device, wear_cycle, cycles)


def synthetic_fleet(rng: np.random.Generator, params: FleetParams) -> FleetTruth:
    n, k = params.devices, params.wear_cycles
    days = params.warmup_days + params.horizon_days + 1
    rate = params.rate_median * np.exp(params.rate_sigma * rng.standard_normal(n))
    phase = rng.uniform(0, 2 * np.pi, n)
    t = np.arange(days, dtype=np.float64)
    daily = rate[:, None] * (
        1 + params.seasonal_amplitude * np.sin(2 * np.pi * t[None, :] / 365.0 + phase[:, None])
    )
    daily *= rng.gamma(20.0, 1 / 20.0, (n, days))  # day-to-day variation (CV ≈ 22 %)
    cumulative = np.concatenate((np.zeros((n, 1)), np.cumsum(daily[:, :-1], axis=1)), axis=1)
    intercept = np.clip(
        params.intercept_mean + params.intercept_sd * rng.standard_normal((n, k)), 0.02, 0.6
    )
    to_failure = params.cycles_to_failure_median * np.exp(
        params.cycles_to_failure_sigma * rng.standard_normal((n, k))
    )
    exponent = rng.uniform(*params.exponent_range, (n, k))
    slope = (1.0 - intercept) / np.power(to_failure / 1000.0, exponent)
    return FleetTruth(
        warmup_days=params.warmup_days,
        horizon_days=params.horizon_days,
        cumulative_cycles=cumulative,
        wear=PowerWear(intercept, slope, exponent),
        first_service_day=rng.integers(0, params.warmup_days, n),
        noise=rng.standard_normal((n, params.noise_draws)),
    )
