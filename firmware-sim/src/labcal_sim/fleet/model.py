"""A fleet of pipettes in accelerated time: usage, wear, failures and the ground truth.

Pure and deterministic: the caller passes a seeded ``numpy.random.Generator``; the same spec and
seed give the same fleet, day by day. One step is one day for every pipette at once (numpy
vectors), with the wear formulas of :mod:`labcal_sim.physics.pipette`:

* **Usage profiles** — ``light`` (≈20 cycles per working day), ``regular`` (≈150), ``heavy``
  (≈700, also some weekends). Weekends are idle except for heavy users (30 % of weekend days);
  each pipette has 0–2 storage periods of 2–12 weeks without use.
* **Wear** — per pipette: systematic drift per 1000 cycles since service, random-error growth,
  a hazard of a sudden leak per 1000 cycles, a daily drop probability on days of use (a drop
  shifts the calibration by a random amount).
* **Service** — every ``service_interval_days`` (random phase per pipette) the pipette is
  serviced: fresh seals, readjusted (since-service counter back to zero).
* **Truth** — each pipette is judged every day at its nominal volume against ISO 8655-2:2002
  MPE (:func:`labcal_shared.iso8655.mpe.mpe_arrays`). An *episode* starts on the first day a
  pipette is out of tolerance (systematic and/or random error) and ends at its next service or
  on the first day its error is back inside the limits.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from labcal_shared.iso8655.mpe import mpe_arrays
from labcal_sim.physics.pipette import cv_pct, systematic_pct

__all__ = [
    "MODELS",
    "PROFILES",
    "FleetEvent",
    "FleetPipette",
    "FleetResult",
    "FleetSpec",
    "OutOfTolerance",
    "UsageDay",
    "simulate_fleet",
]

#: Pipette models of the fleet: (model name, nominal µL, minimum µL).
MODELS: tuple[tuple[str, float, float], ...] = (
    ("LP-10", 10.0, 1.0),
    ("LP-20", 20.0, 2.0),
    ("LP-100", 100.0, 10.0),
    ("LP-200", 200.0, 20.0),
    ("LP-1000", 1000.0, 100.0),
    ("LP-5000", 5000.0, 500.0),
)
#: Usage profiles: (mean cycles per active day, share of weekend days used, share of the fleet).
PROFILES: dict[str, tuple[float, float, float]] = {
    "light": (20.0, 0.0, 0.35),
    "regular": (150.0, 0.0, 0.5),
    "heavy": (700.0, 0.3, 0.15),
}


@dataclass(frozen=True, slots=True)
class FleetSpec:
    pipettes: int = 50
    days: int = 730
    start: dt.date = dt.date(2025, 1, 1)
    service_interval_days: int = 365
    drop_per_active_day: float = 0.002
    edition: str = "ISO 8655-2:2002"

    def __post_init__(self) -> None:
        if self.pipettes < 1 or self.days < 1:
            raise ValueError("a fleet needs at least one pipette and one day")
        if self.service_interval_days < 1:
            raise ValueError("service_interval_days must be at least 1")


@dataclass(frozen=True, slots=True)
class FleetPipette:
    serial: str
    model: str
    nominal_ul: float
    min_ul: float
    profile: str
    systematic_pct: float
    drift_pct_per_kcycle: float
    cv_pct: float
    cv_growth_pct_per_kcycle: float
    leak_per_kcycle: float
    leak_pct: float
    mpe_systematic_ul: float
    mpe_random_ul: float


@dataclass(frozen=True, slots=True)
class UsageDay:
    serial: str
    date: dt.date
    cycles: int
    total: int
    since_service: int
    systematic_pct: float
    cv_pct: float


@dataclass(frozen=True, slots=True)
class FleetEvent:
    serial: str
    date: dt.date
    kind: str  # drop, leak, service
    detail: str = ""


@dataclass(frozen=True, slots=True)
class OutOfTolerance:
    """Ground truth: the pipette was out of ISO 8655-2 tolerance from ``left_on`` until
    ``back_on`` (exclusive; ``None`` if still out at the end of the run). ``ended_by`` says why
    it came back: ``service``, or ``recovered`` (its error drifted or shifted back inside)."""

    serial: str
    left_on: dt.date
    back_on: dt.date | None
    reason: str  # systematic, random or both
    cause: str  # wear, leak or drop
    cycles_since_service: int
    ended_by: str | None = None


@dataclass
class FleetResult:
    spec: FleetSpec
    seed: int
    pipettes: list[FleetPipette] = field(default_factory=list)
    usage: list[UsageDay] = field(default_factory=list)
    events: list[FleetEvent] = field(default_factory=list)
    truth: list[OutOfTolerance] = field(default_factory=list)


def _draw_pipettes(spec: FleetSpec, rng: np.random.Generator) -> list[FleetPipette]:
    n = spec.pipettes
    model_idx = rng.integers(0, len(MODELS), n)
    names = list(PROFILES)
    shares = np.array([PROFILES[p][2] for p in names])
    profile_idx = rng.choice(len(names), size=n, p=shares / shares.sum())
    nominal = np.array([MODELS[i][1] for i in model_idx])
    mpe_sys, mpe_rand = mpe_arrays(nominal, np.ones(n, dtype=np.int64), edition=spec.edition)
    offset = rng.normal(0.0, 0.15, n)
    drift = rng.normal(-0.025, 0.015, n)
    cv0 = rng.uniform(0.05, 0.12, n)
    growth = rng.lognormal(np.log(0.004), 0.5, n)
    hazard = rng.lognormal(np.log(0.003), 0.7, n)
    leak = -rng.uniform(1.5, 4.0, n)
    return [
        FleetPipette(
            serial=f"{MODELS[model_idx[i]][0].replace('-', '')}-{i + 1:05d}",
            model=MODELS[model_idx[i]][0],
            nominal_ul=float(nominal[i]),
            min_ul=MODELS[model_idx[i]][2],
            profile=names[profile_idx[i]],
            systematic_pct=float(offset[i]),
            drift_pct_per_kcycle=float(drift[i]),
            cv_pct=float(cv0[i]),
            cv_growth_pct_per_kcycle=float(growth[i]),
            leak_per_kcycle=float(hazard[i]),
            leak_pct=float(leak[i]),
            mpe_systematic_ul=float(mpe_sys[i]),
            mpe_random_ul=float(mpe_rand[i]),
        )
        for i in range(n)
    ]


def _storage_mask(spec: FleetSpec, rng: np.random.Generator) -> NDArray[np.bool_]:
    """``[pipette, day]`` True on days in storage."""
    mask = np.zeros((spec.pipettes, spec.days), dtype=np.bool_)
    for i in range(spec.pipettes):
        for _ in range(int(rng.integers(0, 3))):
            start = int(rng.integers(0, spec.days))
            mask[i, start : start + int(rng.integers(14, 85))] = True
    return mask


def simulate_fleet(spec: FleetSpec, seed: int) -> FleetResult:
    """Run the fleet for ``spec.days`` days; deterministic from ``seed``."""
    rng = np.random.default_rng(seed)
    result = FleetResult(spec, seed, _draw_pipettes(spec, rng))
    pipettes = result.pipettes
    n = spec.pipettes

    def column(name: str) -> NDArray[np.float64]:
        return np.array([getattr(p, name) for p in pipettes], dtype=np.float64)

    rate = np.array([PROFILES[p.profile][0] for p in pipettes])
    weekend_share = np.array([PROFILES[p.profile][1] for p in pipettes])
    nominal, mpe_sys, mpe_rand = (
        column("nominal_ul"),
        column("mpe_systematic_ul"),
        column("mpe_random_ul"),
    )
    offset, drift, leak_pct = (
        column("systematic_pct"),
        column("drift_pct_per_kcycle"),
        column("leak_pct"),
    )
    cv0, growth, hazard = (
        column("cv_pct"),
        column("cv_growth_pct_per_kcycle"),
        column("leak_per_kcycle"),
    )
    storage = _storage_mask(spec, rng)
    service_phase = rng.integers(0, spec.service_interval_days, n)

    total = np.zeros(n, dtype=np.int64)
    since = np.zeros(n, dtype=np.int64)
    shift = np.zeros(n)
    leaking = np.zeros(n, dtype=np.bool_)
    open_episode: dict[int, tuple[dt.date, str, str, int]] = {}
    cause = np.array(["wear"] * n, dtype=object)

    for day in range(spec.days):
        date = spec.start + dt.timedelta(days=day)
        serviced = (day > 0) & ((day - service_phase) % spec.service_interval_days == 0)
        for i in np.flatnonzero(serviced):
            result.events.append(FleetEvent(pipettes[i].serial, date, "service"))
            if i in open_episode:
                left, reason, why, at_cycles = open_episode.pop(int(i))
                result.truth.append(
                    OutOfTolerance(
                        pipettes[i].serial, left, date, reason, why, at_cycles, "service"
                    )
                )
        since[serviced] = 0
        shift[serviced] = 0.0
        leaking[serviced] = False
        cause[serviced] = "wear"

        weekend = date.weekday() >= 5
        works = ~storage[:, day] & (~weekend | (rng.random(n) < weekend_share))
        cycles: NDArray[np.int64] = np.where(works, rng.poisson(rate), 0).astype(np.int64)
        total += cycles
        since += cycles

        p_leak = 1.0 - np.exp(-hazard * cycles / 1000.0)
        new_leak = ~leaking & (rng.random(n) < p_leak)
        leaking |= new_leak
        dropped = (cycles > 0) & (rng.random(n) < spec.drop_per_active_day)
        shifts = rng.normal(0.0, 0.6, n)
        shift[dropped] += shifts[dropped]
        for i in np.flatnonzero(new_leak):
            result.events.append(FleetEvent(pipettes[i].serial, date, "leak"))
            cause[i] = "leak"
        for i in np.flatnonzero(dropped):
            detail = f"shift {shifts[i]:+.3f} %"
            result.events.append(FleetEvent(pipettes[i].serial, date, "drop", detail))
            if cause[i] == "wear":
                cause[i] = "drop"

        sys_pct = systematic_pct(offset, drift, leak_pct, since, shift, leaking)
        rand_pct = cv_pct(cv0, growth, since, leaking)
        sys_out = np.abs(sys_pct) / 100.0 * nominal > mpe_sys
        rand_out = rand_pct / 100.0 * nominal > mpe_rand
        out = sys_out | rand_out
        for back in [j for j in open_episode if not out[j]]:
            left, reason, why, at_cycles = open_episode.pop(back)
            result.truth.append(
                OutOfTolerance(
                    pipettes[back].serial, left, date, reason, why, at_cycles, "recovered"
                )
            )
        for i in np.flatnonzero(out):
            if int(i) not in open_episode:
                reason = (
                    "both"
                    if sys_out[i] and rand_out[i]
                    else ("systematic" if sys_out[i] else "random")
                )
                open_episode[int(i)] = (date, reason, str(cause[i]), int(since[i]))
        for k in range(n):
            if cycles[k] or day == 0:
                result.usage.append(
                    UsageDay(
                        pipettes[k].serial,
                        date,
                        int(cycles[k]),
                        int(total[k]),
                        int(since[k]),
                        round(float(sys_pct[k]), 6),
                        round(float(rand_pct[k]), 6),
                    )
                )
    for j, (left, reason, why, cycles_at) in sorted(open_episode.items()):
        result.truth.append(OutOfTolerance(pipettes[j].serial, left, None, reason, why, cycles_at))
    result.truth.sort(key=lambda t: (t.left_on, t.serial))
    return result
