"""Maintenance forecasts for a fleet (pure): observations since each pipette's last service,
a prior per pipette model from the fleet, and the forecast with its alert."""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Final

from labcal_cloud.engine.device_prior import Cov, between_cycle_cov
from labcal_cloud.engine.errors import PolicyError
from labcal_cloud.engine.forecast import (
    MaintenanceForecast,
    WearObservation,
    WearPrior,
    fit_line,
    fleet_prior,
    forecast_maintenance,
)
from labcal_cloud.engine.records import CalibrationRecord, current_records, wear_ratio
from labcal_cloud.engine.usage import UsageSample, cycles_per_day

__all__ = [
    "DEFAULT_PRIOR",
    "SD_CALIBRATION",
    "SD_QUICK_CHECK",
    "days_since_service",
    "forecast_device",
    "model_between",
    "model_priors",
    "observations_by_service",
    "observations_since_service",
]

SD_CALIBRATION: Final = 0.05
SD_QUICK_CHECK: Final = 0.10
#: Used for a model with fewer than three pipettes to learn from: reaches the guard band in
#: about 60,000 cycles, wide enough for the pipette's own data to dominate quickly.
DEFAULT_PRIOR: Final = WearPrior((0.2, 0.01), ((0.01, 0.0), (0.0, 0.0001)))


def observations_since_service(
    records: Sequence[CalibrationRecord], since_service: Sequence[UsageSample]
) -> list[WearObservation]:
    """One observation per current record after the last service: cycles since service at the
    record's time (the last counter value before it), its wear ratio and noise."""
    samples = sorted(since_service)
    times = [t for t, _ in samples]
    # the last service lies between the last sample before the counter went back and the
    # first one after it; records in that gap are the service's own (as left: 0 cycles)
    before = after = None
    for (ta, a), (tb, b) in itertools.pairwise(samples):
        if b < a:
            before, after = ta, tb
    out = []
    for r in current_records(records):
        if before is not None and r.ended_at <= before:
            continue
        if before is not None and after is not None and r.ended_at < after:
            if r.phase == "as_found":
                continue
            cycles = 0
        else:
            i = bisect.bisect_right(times, r.ended_at) - 1
            cycles = samples[i][1] if i >= 0 else 0
        sd = SD_QUICK_CHECK if r.kind == "quick_check" else SD_CALIBRATION
        out.append(WearObservation(float(cycles), wear_ratio(r), sd))
    return out


def observations_by_service(
    records: Sequence[CalibrationRecord], since_service: Sequence[UsageSample]
) -> list[list[WearObservation]]:
    """The observations of every wear cycle (service to service), oldest first, the current
    one last; the cycles are cut where the ``cycles_since_service`` counter goes back. A
    service's as-found record ends the old cycle, its as-left record starts the new one."""
    samples = sorted(since_service)
    times = [t for t, _ in samples]
    resets = [(ta, a, tb) for (ta, a), (tb, b) in itertools.pairwise(samples) if b < a]
    cycles: list[list[WearObservation]] = [[] for _ in range(len(resets) + 1)]
    for r in current_records(records):
        k = sum(1 for _, _, tb in resets if tb <= r.ended_at)
        gap = next((j for j, (ta, _, tb) in enumerate(resets) if ta < r.ended_at < tb), None)
        if gap is not None:
            k, c = (gap, resets[gap][1]) if r.phase == "as_found" else (gap + 1, 0)
        else:
            i = bisect.bisect_right(times, r.ended_at) - 1
            c = samples[i][1] if i >= 0 else 0
        sd = SD_QUICK_CHECK if r.kind == "quick_check" else SD_CALIBRATION
        cycles[k].append(WearObservation(float(c), wear_ratio(r), sd))
    return cycles


def model_between(prior: WearPrior, devices: Sequence[Sequence[Sequence[WearObservation]]]) -> Cov:
    """How much a model's wear line varies from one wear cycle to the next (``T`` of
    :mod:`device_prior`): from the pipettes with two completed cycles that each fit a line;
    without three such pipettes, as much as across the fleet (the prior's own spread)."""
    first, second = [], []
    for cycles in devices:
        done = [c for c in cycles[:-1] if len({o.cycles for o in c}) >= 2]
        if len(done) >= 2:
            first.append(fit_line([o.cycles for o in done[-2]], [o.ratio for o in done[-2]]))
            second.append(fit_line([o.cycles for o in done[-1]], [o.ratio for o in done[-1]]))
    if len(first) >= 3:
        return between_cycle_cov(first, second, prior)
    return prior.cov


def model_priors(
    observations: Mapping[str, Sequence[Sequence[WearObservation]]],
) -> dict[str, WearPrior]:
    """Per model: the fleet prior from every pipette with observations at ≥ 2 cycle counts;
    :data:`DEFAULT_PRIOR` where fewer than three pipettes qualify."""
    priors: dict[str, WearPrior] = {}
    for model, devices in observations.items():
        fits = []
        for obs in devices:
            try:
                fits.append(fit_line([o.cycles for o in obs], [o.ratio for o in obs]))
            except PolicyError:
                continue
        priors[model] = fleet_prior(fits) if len(fits) >= 3 else DEFAULT_PRIOR
    return priors


def forecast_device(
    prior: WearPrior,
    observations: Sequence[WearObservation],
    usage: Sequence[UsageSample],
    since_service: Sequence[UsageSample],
    *,
    now: datetime,
    guard: float = 0.8,
    lead_days: float = 30.0,
    alert_probability: float = 0.2,
    min_life_days: float = 0.0,
) -> MaintenanceForecast:
    latest = max(since_service, default=None)
    cycles_now = float(latest[1]) if latest is not None else 0.0
    return forecast_maintenance(
        prior,
        observations,
        cycles_now=cycles_now,
        cycles_per_day=cycles_per_day(usage, now),
        now=now,
        guard=guard,
        lead_days=lead_days,
        alert_probability=alert_probability,
        min_life_days=min_life_days,
        cycles_at_service_days=days_since_service(since_service, now),
    )


def days_since_service(since_service: Sequence[UsageSample], now: datetime) -> float:
    """Days since the last service: since the first counter value after the last reset of the
    ``cycles_since_service`` counter (or the first value), 0 without any."""
    samples = sorted(since_service)
    if not samples:
        return 0.0
    start = samples[0][0]
    for (_, a), (tb, b) in itertools.pairwise(samples):
        if b < a:
            start = tb
    return max(0.0, (now - start).total_seconds() / 86_400.0)
