"""Backtest of the maintenance forecaster against the fixed-12-month baseline.

Run: .venv/bin/python bench/bench_engine_backtest.py [--devices N] [--seeds 1 2 3] [--quick]

Fleets: the firmware simulator's fleet (``labcal_sim.fleet.simulate_fleet``: real usage
profiles with weekends and storage, the simulator's per-pipette wear physics and MPE), seeded;
the forecaster's prior comes from a separate training fleet (seed 100) per pipette model.
Sudden leaks (drawn from each pipette's hazard) are scored in a second table: no forecaster can
see them coming; drops are left out (a drop is an event trigger: due now).
A synthetic fleet (``engine.backtest_fleet.synthetic_fleet``, accelerating wear) is scored too.
Prints one Markdown table per fleet; definitions are in docs/forecasting.md.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from collections.abc import Sequence

import numpy as np

from labcal_cloud.engine.backtest import Policy, Score, prior_from_fleet, run_backtest
from labcal_cloud.engine.backtest_fleet import (
    ErrorWear,
    FleetParams,
    FleetTruth,
    synthetic_fleet,
)
from labcal_cloud.engine.forecast import WearPrior
from labcal_sim.fleet.model import FleetResult, FleetSpec, simulate_fleet

WARMUP_DAYS = 365
HORIZON_DAYS = 3 * 365
WEAR_CYCLES = 250

POLICIES = (
    Policy("baseline: calibrate every 12 months"),
    Policy(
        "forecaster, calibration at most every 12 months",
        calibration_interval_days=365,
        quick_check_interval_days=91,
        quick_check_cycles=10_000,
        forecast=True,
        evidence_share=0.3,
    ),
    Policy(
        "forecaster, calibration at most every 24 months",
        calibration_interval_days=730,
        quick_check_interval_days=91,
        quick_check_cycles=10_000,
        forecast=True,
        evidence_share=0.3,
    ),
)


def truth_from_sim(result: FleetResult, rng: np.random.Generator, leaks: bool) -> FleetTruth:
    """The simulator's fleet as backtest ground truth: its daily usage and wear parameters."""
    pipettes = result.pipettes
    n, days = len(pipettes), result.spec.days
    index = {p.serial: i for i, p in enumerate(pipettes)}
    daily = np.zeros((n, days))
    for u in result.usage:
        daily[index[u.serial], (u.date - result.spec.start).days] = u.cycles
    cumulative = np.concatenate((np.zeros((n, 1)), np.cumsum(daily, axis=1)), axis=1)

    def col(name: str) -> np.ndarray:
        return np.array([getattr(p, name) for p in pipettes], dtype=np.float64)

    nominal = col("nominal_ul")
    hazard = col("leak_per_kcycle")
    leak_at = (
        rng.exponential(1000.0 / hazard[:, None], (n, WEAR_CYCLES))
        if leaks
        else np.full((n, WEAR_CYCLES), math.inf)
    )
    wear = ErrorWear(
        offset_pct=col("systematic_pct"),
        drift_pct_per_kcycle=col("drift_pct_per_kcycle"),
        cv_pct=col("cv_pct"),
        cv_growth_pct_per_kcycle=col("cv_growth_pct_per_kcycle"),
        leak_pct=col("leak_pct"),
        mpe_systematic_pct=col("mpe_systematic_ul") / nominal * 100.0,
        mpe_random_pct=col("mpe_random_ul") / nominal * 100.0,
        leak_at_cycles=leak_at,
    )
    return FleetTruth(
        warmup_days=WARMUP_DAYS,
        horizon_days=days - WARMUP_DAYS,
        cumulative_cycles=cumulative,
        wear=wear,
        first_service_day=rng.integers(0, WARMUP_DAYS, n),
        noise=rng.standard_normal((n, 400)),
    )


def sim_fleet(devices: int, seed: int, leaks: bool) -> tuple[FleetTruth, list[str], list[str]]:
    """Ground truth, pipette models and usage profiles of a seeded simulator fleet."""
    result = simulate_fleet(FleetSpec(pipettes=devices, days=WARMUP_DAYS + HORIZON_DAYS), seed)
    truth = truth_from_sim(result, np.random.default_rng(seed + 10_000), leaks)
    return truth, [p.model for p in result.pipettes], [p.profile for p in result.pipettes]


def model_priors(devices: int, models: Sequence[str]) -> list[WearPrior]:
    """Per-model priors from a training fleet (seed 100, never scored)."""
    train, train_models, _ = sim_fleet(devices, 100, leaks=False)
    by_model = {
        m: prior_from_fleet(train, devices=[i for i, x in enumerate(train_models) if x == m])
        for m in set(train_models)
    }
    return [by_model[m] for m in models]


def pooled(scores: list[Score]) -> dict[str, float]:
    def mean(name: str) -> float:
        return statistics.fmean(float(getattr(s, name)) for s in scores)

    return {
        "failures": sum(s.failures for s in scores),
        "ahead": mean("flagged_ahead_share"),
        "lead": statistics.median(s.median_lead_days for s in scores),
        "false": mean("false_alarm_rate"),
        "cal": mean("calibrations_per_device_year"),
        "asfound": mean("as_found_failure_share"),
        "qc": mean("quick_checks_per_device_year"),
        "oot": mean("out_of_tolerance_days_per_device_year"),
    }


def print_table(title: str, rows: list[tuple[str, dict[str, float]]]) -> None:
    print(f"\n{title}\n")
    print(
        "| policy | failures | flagged ≥ 14 d ahead | median lead (d) | false alarms "
        "| calibrations / device-year | as-found failures | quick checks / device-year "
        "| days out of tolerance / device-year |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in rows:
        print(
            f"| {name} | {int(r['failures'])} | {r['ahead']:.1%} | {r['lead']:.0f} "
            f"| {r['false']:.1%} | {r['cal']:.2f} | {r['asfound']:.1%} | {r['qc']:.1f} "
            f"| {r['oot']:.1f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=400)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--quick", action="store_true", help="150 devices, one seed")
    args = parser.parse_args()
    devices, seeds = (150, [1]) if args.quick else (args.devices, args.seeds)
    start = time.perf_counter()
    print(f"backtest: {devices} pipettes x seeds {seeds}, {HORIZON_DAYS} days scored")
    by_profile: dict[tuple[str, str], list[Score]] = {}
    for leaks in (False, True):
        scores: dict[str, list[Score]] = {p.name: [] for p in POLICIES}
        for seed in seeds:
            truth, models, profiles = sim_fleet(devices, seed, leaks)
            priors = model_priors(devices, models)
            for policy in POLICIES:
                scores[policy.name].append(run_backtest(truth, policy, priors))
                if leaks or policy is POLICIES[1]:
                    continue
                for profile in sorted(set(profiles)):
                    idx = np.array([i for i, x in enumerate(profiles) if x == profile])
                    part = run_backtest(truth.take(idx), policy, [priors[i] for i in idx])
                    by_profile.setdefault((policy.name, profile), []).append(part)
        title = "firmware-sim fleet, wear" + (" + sudden leaks" if leaks else " only")
        print_table(title, [(name, pooled(s)) for name, s in scores.items()])
        if not leaks:
            print_table(
                "firmware-sim fleet, wear only, by usage profile",
                [(f"{name} — {profile}", pooled(s)) for (name, profile), s in by_profile.items()],
            )
    synth: dict[str, list[Score]] = {p.name: [] for p in POLICIES}
    train = synthetic_fleet(np.random.default_rng(100), FleetParams(devices=devices))
    prior = prior_from_fleet(train)
    for seed in seeds:
        truth = synthetic_fleet(np.random.default_rng(seed), FleetParams(devices=devices))
        for policy in POLICIES:
            synth[policy.name].append(run_backtest(truth, policy, prior))
    print_table(
        "synthetic fleet (accelerating wear r = a + b·c^p)",
        [(name, pooled(s)) for name, s in synth.items()],
    )
    print(f"\n({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
