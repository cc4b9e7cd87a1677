"""Due-state recomputation for a fleet of 1,000,000 devices (vectorised numpy).

Run: .venv/bin/python bench/bench_engine_due.py [--devices N] [--repeats R]
Prints the median wall time over R runs (goal: < 5 s for 1,000,000 devices) and how many
devices changed state between two consecutive days (the ones that get a reason text).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from labcal_cloud.engine.due_vector import STATUS_CODES, FleetFacts, compute_fleet_due


def make_fleet(n: int, seed: int) -> FleetFacts:
    rng = np.random.default_rng(seed)
    now = 2500.0
    last = now - rng.uniform(0, 500, n)
    last[rng.random(n) < 0.02] = np.nan  # never calibrated
    events = np.where(rng.random(n) < 0.01, now - rng.uniform(0, 30, n), np.nan)
    limits = np.where(rng.random(n) < 0.5, rng.choice([50_000.0, 100_000.0], n), np.nan)
    return FleetFacts(
        registered_at=now - rng.uniform(500, 2000, n),
        last_calibration_at=last,
        last_calibration_passed=rng.random(n) > 0.005,
        cycles_since_calibration=rng.uniform(0, 120_000, n),
        cycles_per_day=rng.gamma(2.0, 100.0, n),
        event_at=events,
        interval_days=np.where(rng.random(n) < 0.3, 182.0, 365.0),
        cycle_limit=limits,
        due_soon_days=30.0,
        grace_days=14.0,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    fleet = make_fleet(args.devices, seed=1)
    timings = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        today = compute_fleet_due(fleet, 2500.0)
        timings.append(time.perf_counter() - start)
    tomorrow = compute_fleet_due(fleet, 2501.0)
    changed = int(np.count_nonzero(today.status != tomorrow.status))
    counts = np.bincount(today.status, minlength=len(STATUS_CODES))
    print(f"due-state recomputation, {args.devices:,} devices")
    print(f"  median {statistics.median(timings):.3f} s over {args.repeats} runs (goal < 5 s)")
    print(
        "  states: "
        + ", ".join(f"{s.value} {c:,}" for s, c in zip(STATUS_CODES, counts, strict=True))
    )
    print(f"  state changes from one day to the next: {changed:,}")


if __name__ == "__main__":
    main()
