"""Demo figures: how long ``labcal-cloud demo up`` (what ``./scripts/run`` runs after bootstrap)
takes to print the portal URL, to show a signed certificate and an inbox reminder, and to stop
every process after SIGINT. Median of several runs, each in a fresh data directory.

Run: .venv/bin/python bench/bench_demo_startup.py [--runs 3]
"""

from __future__ import annotations

import argparse
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

CLOUD = str(Path(sys.executable).parent / "labcal-cloud")
MARKS = {
    "portal URL printed": r"Portal:",
    "first usage projected": r"worker: usage projected",
    "reminder in the inbox": r"reminder\(s\) delivered to the portal inbox",
    "certificate signed": r"worker: certificate signed",
    "quick check done": r"gravimetric-2: ",
    "balance agent ready": r"edge demo-bal-01: ready",
}


def one_run(data_dir: Path) -> dict[str, float]:
    started = time.monotonic()
    seen: dict[str, float] = {}
    done = threading.Event()
    proc = subprocess.Popen(
        [CLOUD, "demo", "up", "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            for name, pattern in MARKS.items():
                if name not in seen and re.search(pattern, line):
                    seen[name] = time.monotonic() - started
            if len(seen) == len(MARKS):
                done.set()
        done.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    if not done.wait(600):
        raise SystemExit("the demo did not show everything within 600 s")
    stop_at = time.monotonic()
    proc.send_signal(signal.SIGINT)
    code = proc.wait(120)
    seen["stop after SIGINT"] = time.monotonic() - stop_at
    reader.join(10)
    assert proc.stdout is not None
    proc.stdout.close()
    if code != 0 or len(seen) != len(MARKS) + 1:
        raise SystemExit(f"run failed (exit {code}, seen {sorted(seen)})")
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    results = []
    for i in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="labcal-demo-bench-") as tmp:
            results.append(one_run(Path(tmp) / "demo"))
        print(f"run {i + 1}: " + ", ".join(f"{k} {v:.1f} s" for k, v in results[-1].items()))
    print(f"\nlabcal-cloud demo up, median of {args.runs} runs (seconds from start):")
    for name in [*MARKS, "stop after SIGINT"]:
        values = [r[name] for r in results]
        print(f"  {name:<24} {statistics.median(values):6.1f} s  (min {min(values):.1f})")


if __name__ == "__main__":
    main()
