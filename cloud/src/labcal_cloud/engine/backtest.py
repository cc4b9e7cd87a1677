"""Backtest: run a calibration policy over a fleet with known wear and score it.

Policies: the fixed-interval baseline (calibrate every 12 months; service when the calibration
finds the pipette beyond the guard band) and the forecaster (quick checks feed
:func:`forecast_maintenance`; a maintenance alert triggers service; calibrations at most every
``calibration_interval_days``). Deterministic: the fleet's noise is drawn up front. Scores are
counted over the horizon after the warm-up (see ``docs/forecasting.md`` for definitions).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from labcal_cloud.engine.backtest_fleet import FleetTruth, wear_ratio_at
from labcal_cloud.engine.device_prior import (
    Cov,
    Evidence,
    between_cycle_cov,
    cycle_evidence,
    prior_from,
)
from labcal_cloud.engine.forecast import (
    WearObservation,
    WearPrior,
    crossing_cycles,
    fit_line,
    fleet_prior,
    wear_posterior,
)

__all__ = [
    "FLAG_AHEAD_DAYS",
    "Policy",
    "Score",
    "WearOutcome",
    "between_from_fleet",
    "prior_from_fleet",
    "run_backtest",
    "simulate_device",
]

FLAG_AHEAD_DAYS = 14
FALSE_ALARM_SLACK_DAYS = 90  # an alert whose guard crossing comes later than lead + this is false
INF = math.inf
F64 = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Policy:
    name: str
    calibration_interval_days: int = 365
    calibration_cycles: float | None = None  # also calibrate after this many cycles
    quick_check_interval_days: int | None = None
    quick_check_cycles: float | None = None
    forecast: bool = False
    guard: float = 0.8
    lead_days: float = 30.0
    alert_probability: float = 0.2
    sd_calibration: float = 0.05
    sd_quick_check: float = 0.10
    rate_window_days: int = 30
    evidence_share: float = 0.5
    device_prior: bool = False  # shrink the model prior toward the pipette's earlier cycles
    min_life_days: float = 0.0  # act on alerts only when the forecast wear cycle lasts this long


@dataclass(frozen=True, slots=True)
class WearOutcome:
    """One wear cycle of one device: when it would fail and when (why) it was serviced."""

    device: int
    start_day: int
    failure_day: float  # inf: does not fail within the simulated days
    guard_day: float  # the day the true wear ratio crosses the guard band
    service_day: int | None  # None: still in use at the end
    trigger: str  # "alert", "calibration", "quick_check", "end"


@dataclass(frozen=True, slots=True)
class Score:
    policy: str
    devices: int
    failures: int
    flagged_ahead_share: float
    median_lead_days: float
    false_alarm_rate: float
    calibrations_per_device_year: float
    as_found_failure_share: float
    quick_checks_per_device_year: float
    out_of_tolerance_days_per_device_year: float


@dataclass(slots=True)
class _DeviceRun:
    outcomes: list[WearOutcome] = field(default_factory=list)
    calibrations: list[int] = field(default_factory=list)
    failed_as_found: list[bool] = field(default_factory=list)
    quick_checks: list[int] = field(default_factory=list)


def _crossing_day(truth: FleetTruth, i: int, k: int, start: int, level: float = 1.0) -> float:
    cum = truth.cumulative_cycles[i, start:]
    r = wear_ratio_at(truth, i, k, cum - cum[0])
    hits = np.flatnonzero(r >= level)
    return float(start + hits[0]) if hits.size else INF


def _true_ratio(truth: FleetTruth, i: int, k: int, cycles: float) -> float:
    return float(wear_ratio_at(truth, i, k, np.array([cycles]))[0])


def _first_day(values: F64, threshold: float, offset: int) -> float:
    hits = np.flatnonzero(values >= threshold)
    return float(offset + hits[0]) if hits.size else INF


def _alert_day(
    truth: FleetTruth,
    i: int,
    start: int,
    today: int,
    observations: list[WearObservation],
    prior: WearPrior,
    policy: Policy,
) -> tuple[float, float]:
    """The day the forecast raises its alert, and the first day with enough evidence to act
    on it (cycles since service ≥ ``evidence_share`` x the median crossing)."""
    cum = truth.cumulative_cycles[i]
    c_now = float(cum[today] - cum[start])
    post = wear_posterior(prior, observations)
    c_early = crossing_cycles(post, policy.guard, policy.alert_probability, c_now)
    if math.isinf(c_early) or today + 1 >= cum.shape[0]:
        return INF, INF
    c_median = crossing_cycles(post, policy.guard, 0.5, c_now)
    days = np.arange(today + 1, cum.shape[0])
    w = policy.rate_window_days
    rate = (cum[days] - cum[np.maximum(days - w, 0)]) / np.minimum(days, w)
    if policy.min_life_days > 0:
        # rationing: a pipette that wears out faster than this is left to its calibrations
        now_rate = float(rate[0])
        life = (today - start) + (c_median - c_now) / now_rate if now_rate > 0 else INF
        if life < policy.min_life_days:
            return INF, INF
    used = cum[days] - cum[start]
    alert = _first_day(used + rate * policy.lead_days, c_early, today + 1)
    if math.isinf(c_median):
        return alert, INF
    evidence = policy.evidence_share * c_median
    return alert, (float(today) if c_now >= evidence else _first_day(used, evidence, today + 1))


def simulate_device(
    truth: FleetTruth, i: int, policy: Policy, model_prior: WearPrior, between: Cov | None = None
) -> _DeviceRun:
    """One device under ``policy``; ``between`` (the cycle-to-cycle covariance) is needed when
    the policy uses a per-device prior."""
    if policy.device_prior and between is None:
        raise ValueError("a per-device prior needs the between-cycle covariance")
    prior = model_prior
    history: Evidence | None = None  # the earlier wear cycles' evidence (per-device prior)
    end = truth.warmup_days + truth.horizon_days
    cum = truth.cumulative_cycles[i]
    noise = truth.noise[i]
    draws = 0

    run = _DeviceRun()

    def measure(k: int, start: int, day: int, sd: float, calibration: bool) -> tuple[float, float]:
        nonlocal draws
        c = float(cum[day] - cum[start])
        true = _true_ratio(truth, i, k, c)
        value = true + sd * float(noise[draws % noise.shape[0]])
        draws += 1
        if calibration:
            run.calibrations.append(day)
            run.failed_as_found.append(true >= 1.0)
        return c, value

    k, start = 0, int(truth.first_service_day[i])
    failure = _crossing_day(truth, i, k, start)
    guard = _crossing_day(truth, i, k, start, policy.guard)
    c0, r0 = measure(k, start, start, policy.sd_calibration, True)
    obs = [WearObservation(c0, r0, policy.sd_calibration)]
    last_cal = last_qc = obs_day = start
    alert, evidence = (
        _alert_day(truth, i, start, start, obs, prior, policy) if policy.forecast else (INF, INF)
    )
    while True:
        next_cal = _next_calibration(cum, last_cal, policy)
        next_qc = _next_quick_check(cum, last_qc, policy)
        # an alert needs evidence: an observation late enough in the forecast life; until
        # then it brings a quick check forward (to when that evidence can be had)
        confirmed = evidence <= obs_day
        if not confirmed:
            next_qc = min(next_qc, max(alert, evidence))
        day_f = min(next_cal, next_qc, alert if confirmed else INF)
        if k + 1 >= truth.wear.wear_cycles:
            raise ValueError(f"device {i}: the fleet has too few wear cycles for this policy")
        if day_f > end:
            run.outcomes.append(WearOutcome(i, start, failure, guard, None, "end"))
            return run
        day = int(day_f)
        if day == next_cal or (confirmed and day == alert):
            trigger = "alert" if confirmed and day == alert else "calibration"
            c, value = measure(k, start, day, policy.sd_calibration, True)
            service = trigger == "alert" or value >= policy.guard
            last_cal = day
        else:
            trigger = "quick_check"
            run.quick_checks.append(day)
            c, value = measure(k, start, day, policy.sd_quick_check, False)
            service = value >= policy.guard
            if service:  # the failed quick check calls a calibration visit the same day
                run.calibrations.append(day)
                run.failed_as_found.append(_true_ratio(truth, i, k, c) >= 1.0)
                last_cal = day
            last_qc = day
        if service:
            run.outcomes.append(WearOutcome(i, start, failure, guard, day, trigger))
            if policy.device_prior and between is not None:
                sd = policy.sd_calibration if trigger != "quick_check" else policy.sd_quick_check
                j, h = cycle_evidence(between, [*obs, WearObservation(c, value, sd)])
                history = (j, h) if history is None else (history[0] + j, history[1] + h)
                prior = prior_from(model_prior, between, history)
            k, start = k + 1, day
            failure = _crossing_day(truth, i, k, start)
            guard = _crossing_day(truth, i, k, start, policy.guard)
            c0, r0 = measure(k, start, start, policy.sd_calibration, False)  # as left, same visit
            obs = [WearObservation(c0, r0, policy.sd_calibration)]
            last_cal = last_qc = day
        else:
            sd = policy.sd_calibration if trigger != "quick_check" else policy.sd_quick_check
            obs.append(WearObservation(c, value, sd))
        obs_day = day
        if policy.forecast:
            alert, evidence = _alert_day(truth, i, start, day, obs, prior, policy)


def _next_calibration(cum: F64, last_cal: int, policy: Policy) -> float:
    """The next scheduled calibration: ``calibration_interval_days`` after the last one, or
    earlier when ``calibration_cycles`` cycles have been used since."""
    by_days = float(last_cal + policy.calibration_interval_days)
    if policy.calibration_cycles is None:
        return by_days
    used = cum[last_cal + 1 :] - cum[last_cal]
    i = int(np.searchsorted(used, policy.calibration_cycles))
    return min(by_days, float(last_cal + 1 + i)) if i < used.shape[0] else by_days


def _next_quick_check(cum: F64, last_qc: int, policy: Policy) -> float:
    """The next quick check: after ``quick_check_interval_days`` or ``quick_check_cycles``
    cycles since the last one, whichever comes first (inf without quick checks)."""
    if policy.quick_check_interval_days is None:
        return INF
    by_days = float(last_qc + policy.quick_check_interval_days)
    if policy.quick_check_cycles is None:
        return by_days
    hits = np.flatnonzero(cum[last_qc + 1 :] - cum[last_qc] >= policy.quick_check_cycles)
    return min(by_days, float(last_qc + 1 + hits[0])) if hits.size else by_days


def prior_from_fleet(
    truth: FleetTruth, observations_per_device: int = 8, devices: Sequence[int] | None = None
) -> WearPrior:
    """The model's fleet prior: a straight line fitted to each device's first wear cycle
    (observed without noise up to its failure), pooled over ``devices`` (default all)."""
    fits = []
    for i in range(truth.devices) if devices is None else devices:
        cum = truth.cumulative_cycles[i]
        start = int(truth.first_service_day[i])
        span = cum[-1] - cum[start]
        failure = _crossing_day(truth, i, 0, start)
        limit = span if math.isinf(failure) else cum[int(failure)] - cum[start]
        cycles = np.linspace(0, limit, observations_per_device)
        ratios = wear_ratio_at(truth, i, 0, cycles)
        fits.append(fit_line(cycles.tolist(), ratios.tolist()))
    return fleet_prior(fits)


def _line_fit(truth: FleetTruth, i: int, k: int, points: int) -> tuple[float, float]:
    """A straight line through ``points`` noiseless ratios of wear cycle ``k`` of device ``i``
    (as if it started at its first service), up to its failure or the end of the days."""
    cum = truth.cumulative_cycles[i]
    start = int(truth.first_service_day[i])
    failure = _crossing_day(truth, i, k, start)
    limit = cum[-1] - cum[start] if math.isinf(failure) else cum[int(failure)] - cum[start]
    cycles = np.linspace(0, limit, points)
    return fit_line(cycles.tolist(), wear_ratio_at(truth, i, k, cycles).tolist())


def between_from_fleet(
    truth: FleetTruth,
    prior: WearPrior,
    observations_per_device: int = 8,
    devices: Sequence[int] | None = None,
) -> Cov:
    """The cycle-to-cycle covariance ``T`` of a training fleet: line fits of each device's
    first and second wear cycles (see :func:`device_prior.between_cycle_cov`)."""
    idx = range(truth.devices) if devices is None else devices
    first = [_line_fit(truth, i, 0, observations_per_device) for i in idx]
    second = [_line_fit(truth, i, 1, observations_per_device) for i in idx]
    return between_cycle_cov(first, second, prior)


def run_backtest(
    truth: FleetTruth,
    policy: Policy,
    prior: WearPrior | Sequence[WearPrior],
    between: Cov | list[Cov] | None = None,
) -> Score:
    """Score ``policy``; ``prior`` (and ``between``, for a per-device prior) is one for the
    fleet or one per device (its model's; ``between``: a list)."""
    priors = [prior] * truth.devices if isinstance(prior, WearPrior) else list(prior)
    betweens: list[Cov | None] = (
        list(between) if isinstance(between, list) else [between] * truth.devices
    )
    runs = [simulate_device(truth, i, policy, priors[i], betweens[i]) for i in range(truth.devices)]
    lo, hi = truth.warmup_days, truth.warmup_days + truth.horizon_days
    device_years = truth.devices * truth.horizon_days / 365.0
    outcomes = [o for r in runs for o in r.outcomes]
    failures = [o for o in outcomes if lo <= o.failure_day <= hi]
    ahead = [
        o
        for o in failures
        if o.service_day is not None and o.service_day <= o.failure_day - FLAG_AHEAD_DAYS
    ]
    leads = [o.failure_day - o.service_day for o in ahead if o.service_day is not None]
    alerts = [
        o
        for o in outcomes
        if o.trigger == "alert" and o.service_day is not None and lo <= o.service_day <= hi
    ]
    slack = policy.lead_days + FALSE_ALARM_SLACK_DAYS
    false_alarms = [o for o in alerts if o.guard_day - (o.service_day or 0) > slack]
    in_window = [
        failed
        for r in runs
        for d, failed in zip(r.calibrations, r.failed_as_found, strict=True)
        if lo <= d <= hi
    ]
    out_days = 0.0
    for o in outcomes:
        stop = hi if o.service_day is None else min(o.service_day, hi)
        out_days += max(0.0, stop - max(o.failure_day, lo))
    return Score(
        policy=policy.name,
        devices=truth.devices,
        failures=len(failures),
        flagged_ahead_share=len(ahead) / len(failures) if failures else 1.0,
        median_lead_days=statistics.median(leads) if leads else 0.0,
        false_alarm_rate=len(false_alarms) / len(alerts) if alerts else 0.0,
        calibrations_per_device_year=len(in_window) / device_years,
        as_found_failure_share=sum(in_window) / len(in_window) if in_window else 0.0,
        quick_checks_per_device_year=sum(1 for r in runs for d in r.quick_checks if lo <= d <= hi)
        / device_years,
        out_of_tolerance_days_per_device_year=out_days / device_years,
    )
