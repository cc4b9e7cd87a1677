"""Calibration policies as curves: days out of tolerance against visits per device-year.

Run: nice .venv/bin/python bench/bench_policy_curves.py [--devices 400] [--seeds 1 2 3]
         [--jobs 2] [--cost-calibration 120] [--cost-quick-check 12] [--quick]
         [--json PATH] [--plot PATH] [--tune-only]

Every policy family is swept over its own knob (``engine.policy_curves``: fixed intervals
1-24 months, every N cycles, the earlier of both, the forecaster's alert probability × guard
band × lead days × quick-check schedule). Two fleets: the firmware simulator's (priors from
training seed 100, tuning seed 50) and the synthetic one (training seed 100, tuning seed 200).

Rule (as in bench_engine_backtest.py): the forecaster's setting for each budget is chosen on
the *tuning* seed only; the scored seeds only score that choice. The simple policies are not
tuned at all: every setting is scored and the best one at the budget is taken from the scored
seeds themselves (an oracle choice, in the simple policies' favour). A row compares the best
simple policy costing at most max(budget, the forecaster's scored cost) with the forecaster.
Prints Markdown tables; --json writes the curves (the engine's operating points), --plot a PNG.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from bench_engine_backtest import sim_fleet

from labcal_cloud.engine.backtest import (
    Policy,
    Score,
    between_from_fleet,
    prior_from_fleet,
    run_backtest,
)
from labcal_cloud.engine.backtest_fleet import FleetParams, FleetTruth, synthetic_fleet
from labcal_cloud.engine.device_prior import Cov
from labcal_cloud.engine.forecast import WearPrior
from labcal_cloud.engine.policy_curves import (
    CurvePoint,
    VisitCosts,
    best_at_budget,
    forecaster_grid,
    pareto_front,
    point_from_score,
    simple_grid,
)

FLEETS = ("firmware-sim", "synthetic")
TRAIN_SEED = 100
TUNE_SEED = {"firmware-sim": 50, "synthetic": 200}
BUDGETS = (1.0, 2.0, 4.0)


@dataclass(frozen=True, slots=True)
class Fleet:
    truth: FleetTruth
    priors: list[WearPrior]
    between: list[Cov]


@cache
def fleet(name: str, devices: int, seed: int) -> Fleet:
    """A fleet with each device's model prior and between-cycle covariance (from training)."""
    if name == "firmware-sim":
        truth, models, _ = sim_fleet(devices, seed, leaks=False)
        train, train_models, _ = sim_fleet(devices, TRAIN_SEED, leaks=False)
        pooled = prior_from_fleet(train)
        by_model = {m: (pooled, between_from_fleet(train, pooled)) for m in models}
        for m in set(train_models):
            idx = [i for i, x in enumerate(train_models) if x == m]
            if len(idx) >= 3:  # else the pooled prior of every model (small --quick fleets)
                prior = prior_from_fleet(train, devices=idx)
                by_model[m] = (prior, between_from_fleet(train, prior, devices=idx))
        return Fleet(truth, [by_model[m][0] for m in models], [by_model[m][1] for m in models])
    params = FleetParams(devices=devices)
    truth = synthetic_fleet(np.random.default_rng(seed), params)
    train = synthetic_fleet(np.random.default_rng(TRAIN_SEED), params)
    prior = prior_from_fleet(train)
    between = between_from_fleet(train, prior)
    return Fleet(truth, [prior] * devices, [between] * devices)


def _score(task: tuple[str, int, int, Policy]) -> Score:
    name, devices, seed, policy = task
    f = fleet(name, devices, seed)
    return run_backtest(f.truth, policy, f.priors, f.between)


def score_all(tasks: Sequence[tuple[str, int, int, Policy]], jobs: int) -> list[Score]:
    if jobs <= 1:
        return [_score(t) for t in tasks]
    with ProcessPoolExecutor(jobs) as pool:
        return list(pool.map(_score, tasks, chunksize=1))


def curve(
    grid: Sequence[tuple[str, Policy]],
    name: str,
    devices: int,
    seeds: Sequence[int],
    costs: VisitCosts,
    jobs: int,
) -> list[CurvePoint]:
    tasks = [(name, devices, s, p) for _, p in grid for s in seeds]
    scores = score_all(tasks, jobs)
    n = len(seeds)
    return [
        point_from_score(fam, p, scores[k * n : (k + 1) * n], costs)
        for k, (fam, p) in enumerate(grid)
    ]


def print_rows(title: str, rows: list[tuple[str, ...]], header: tuple[str, ...]) -> None:
    print(f"\n{title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for r in rows:
        print("| " + " | ".join(r) + " |")


def _fmt(p: CurvePoint | None, costs: VisitCosts) -> tuple[str, str, str]:
    if p is None:
        return "—", "—", "—"
    return (
        p.policy,
        f"{p.visits:.2f} ({p.calibrations:.2f} + {p.quick_checks:.1f} qc, €{p.cost:.0f})",
        f"{p.out_of_tolerance_days:.1f} ({p.flagged_ahead:.0%} flagged ≥ 14 d)",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=400)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--cost-calibration", type=float, default=VisitCosts().calibration)
    parser.add_argument("--cost-quick-check", type=float, default=VisitCosts().quick_check)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke test: 30 devices, seed 9 (never reported), every 12th forecaster setting",
    )
    parser.add_argument("--tune-only", action="store_true", help="the tuning seeds only")
    parser.add_argument("--json", type=Path, help="write the curves here")
    parser.add_argument("--plot", type=Path, help="write a PNG of the curves here")
    args = parser.parse_args()
    devices, seeds = (30, [9]) if args.quick else (args.devices, args.seeds)
    costs = VisitCosts(args.cost_calibration, args.cost_quick_check)
    simple, forecasters = simple_grid(), forecaster_grid()
    if args.quick:
        forecasters = forecasters[::12]
    start = time.perf_counter()
    print(
        f"policy curves: {devices} pipettes, tuning seeds {TUNE_SEED}, scored seeds {seeds};"
        f" {len(simple)} simple settings, {len(forecasters)} forecaster settings;"
        f" a calibration visit €{costs.calibration:g}, a quick check €{costs.quick_check:g}"
    )
    out: dict[str, object] = {
        "devices": devices,
        "scored_seeds": seeds,
        "tuning_seeds": TUNE_SEED,
        "costs": {"calibration": costs.calibration, "quick_check": costs.quick_check},
        "fleets": {},
    }
    summary: list[tuple[str, ...]] = []
    for name in FLEETS:
        tuned = curve(forecasters, name, devices, [TUNE_SEED[name]], costs, args.jobs)
        front = pareto_front(tuned)
        if args.tune_only:
            tuned_simple = curve(simple, name, devices, [TUNE_SEED[name]], costs, args.jobs)
            print_rows(
                f"{name}, tuning seed {TUNE_SEED[name]}: Pareto fronts",
                [(p.family, *_fmt(p, costs)) for p in pareto_front(tuned_simple) + front],
                ("family", "policy", "visits / device-year", "days out of tolerance"),
            )
            continue
        chosen = {b: best_at_budget(tuned, b) for b in BUDGETS}
        by_name = {p.name: p for _, p in forecasters}
        picked = [p.policy for p in front]
        picked += [c.policy for c in chosen.values() if c is not None and c.policy not in picked]
        scored_fc = curve(
            [("forecaster", by_name[n]) for n in picked], name, devices, seeds, costs, args.jobs
        )
        fc_by_name = {p.policy: p for p in scored_fc}
        scored_simple = curve(simple, name, devices, seeds, costs, args.jobs)
        for b in BUDGETS:
            c = chosen[b]
            f = fc_by_name[c.policy] if c is not None else None
            limit = max(b, f.visits) if f is not None else b
            s = best_at_budget(scored_simple, limit)
            verdict = (
                "—"
                if f is None or s is None
                else (
                    "forecaster lower"
                    if f.out_of_tolerance_days < s.out_of_tolerance_days
                    else "NOT lower"
                )
            )
            summary.append(
                (
                    name,
                    f"{b:g}",
                    *(_fmt(s, costs)[i] for i in (0, 2)),
                    f"{s.visits:.2f}" if s else "—",
                    *(_fmt(f, costs)[i] for i in (0, 2)),
                    f"{f.visits:.2f}" if f else "—",
                    verdict,
                )
            )
        print_rows(
            f"{name} fleet: every setting's curve (scored seeds {seeds})",
            [
                (p.family, *_fmt(p, costs))
                for fam in ("fixed interval", "usage interval", "earlier of both")
                for p in pareto_front([q for q in scored_simple if q.family == fam])
            ]
            + [(p.family, *_fmt(p, costs)) for p in sorted(scored_fc, key=lambda q: q.visits)],
            ("family", "policy", "visits / device-year", "days out of tolerance / device-year"),
        )
        fleets = out["fleets"]
        assert isinstance(fleets, dict)
        fleets[name] = {
            "simple": [p.as_dict() for p in scored_simple],
            "forecaster_tuning": [p.as_dict() for p in tuned],
            "forecaster": [
                {**p.as_dict(), "parameters": _parameters(by_name[p.policy])} for p in scored_fc
            ],
            "chosen": {f"{b:g}": (c.policy if c else None) for b, c in chosen.items()},
        }
    if summary:
        print_rows(
            "best simple policy vs forecaster at a budget (visits per device-year)",
            summary,
            (
                "fleet",
                "budget",
                "best simple policy",
                "its days out of tolerance / device-year",
                "its visits",
                "forecaster (chosen on the tuning seed)",
                "its days out of tolerance / device-year",
                "its visits",
                "",
            ),
        )
    if args.json and not args.tune_only:
        args.json.write_text(json.dumps(out, indent=1) + "\n")
    if args.plot and not args.tune_only:
        from plot_policy_curves import plot

        plot(out, args.plot)
    print(f"\n({time.perf_counter() - start:.0f} s)")


def _parameters(p: Policy) -> dict[str, object]:
    return {
        "alert_probability": p.alert_probability,
        "guard": p.guard,
        "lead_days": p.lead_days,
        "quick_check_interval_days": p.quick_check_interval_days,
        "quick_check_cycles": p.quick_check_cycles,
        "calibration_interval_days": p.calibration_interval_days,
        "min_life_days": p.min_life_days,
        "device_prior": p.device_prior,
    }


if __name__ == "__main__":
    main()
