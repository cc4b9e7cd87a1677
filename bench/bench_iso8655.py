"""Benchmark: re-evaluate 100,000 gravimetric runs (3 test volumes × 10 replicates each).

Run: ``.venv/bin/python bench/bench_iso8655.py [runs] [repeats]``. Prints the median wall time of
the numpy batch path (``evaluate_batch``) over several repeats and the throughput in runs/s, and,
for comparison, the scalar path (``evaluate_run``) on a small sample.
"""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np

from labcal_shared.iso8655 import (
    BalanceSpec,
    Environment,
    GravimetricRun,
    PipetteSpec,
    TestSeries,
    evaluate_batch,
    evaluate_run,
)

VOLUMES = (1000.0, 500.0, 100.0)


def make_data(runs: int, seed: int = 8655) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)  # the benchmark's data only; the core has no randomness
    volumes = np.asarray(VOLUMES)
    masses = volumes[None, :, None] / 1.0029 * rng.normal(1.0, 0.002, size=(runs, 3, 10))
    return {
        "masses": masses,
        "water": rng.uniform(18.0, 25.0, runs),
        "pressure": rng.uniform(90.0, 104.0, runs),
        "humidity": rng.uniform(40.0, 70.0, runs),
        "evap": rng.uniform(0.0, 0.05, (runs, 3)),
    }


def run_batch(data: dict[str, np.ndarray]) -> int:
    result = evaluate_batch(
        data["masses"],
        VOLUMES,
        nominal_volume_ul=1000.0,
        water_temp_c=data["water"],
        pressure_kpa=data["pressure"],
        humidity_pct=data["humidity"],
        readability_mg=0.01,
        evaporation_mg=data["evap"],
    )
    return int(result.run_passed.sum())


def run_scalar(data: dict[str, np.ndarray], runs: int) -> int:
    passed = 0
    for r in range(runs):
        run = GravimetricRun(
            PipetteSpec(1000.0),
            BalanceSpec(0.01),
            Environment.single(
                float(data["water"][r]), float(data["pressure"][r]), float(data["humidity"][r])
            ),
            tuple(
                TestSeries(
                    v, data["masses"][r, j].tolist(), evaporation_per_cycle=data["evap"][r, j]
                )
                for j, v in enumerate(VOLUMES)
            ),
        )
        passed += evaluate_run(run).passed
    return passed


def main(argv: list[str]) -> None:
    runs = int(argv[1]) if len(argv) > 1 else 100_000
    repeats = int(argv[2]) if len(argv) > 2 else 7
    data = make_data(runs)
    times = []
    passed = 0
    for _ in range(repeats):
        start = time.perf_counter()
        passed = run_batch(data)
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    print(
        f"batch: {runs} runs × 3 volumes × 10 replicates, median of {repeats}: "
        f"{median:.3f} s = {runs / median:,.0f} runs/s ({passed} runs passed)"
    )
    sample = min(runs, 1000)
    start = time.perf_counter()
    scalar_passed = run_scalar(data, sample)
    elapsed = time.perf_counter() - start
    print(
        f"scalar: {sample} runs in {elapsed:.3f} s = {sample / elapsed:,.0f} runs/s "
        f"({scalar_passed} passed; batch agrees on these: "
        f"{run_batch({k: v[:sample] for k, v in data.items()}) == scalar_passed})"
    )


if __name__ == "__main__":
    main(sys.argv)
