"""Demo figures: how long ``labcal-cloud demo up`` (what ``./scripts/run`` runs after bootstrap:
serve on a fresh data dir, seeded, with simulated stations) takes to print the portal URL, to
sign a certificate (the pipeline's console line) and deliver a reminder (the scheduler's), and
to stop every process after SIGINT. Median of several runs, each in a fresh data directory.

Run: .venv/bin/python bench/bench_demo_startup.py [--runs 3] [--roles broker,api,ingest]
(``--roles`` without pipeline and scheduler: the certificate and reminder marks are left out)
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
ALL_MARKS = {
    "portal URL printed": r"Portal:",
    "reminder delivered": r"scheduler: \d+ reminder\(s\) delivered",
    "certificate signed": r"pipeline: certificate \S+ signed",
    "quick check done": r"gravimetric-2: ",
    "balance agent ready": r"edge demo-bal-01: ready",
}
NEEDS_ROLE = {"reminder delivered": "scheduler", "certificate signed": "pipeline"}
ROLES = "broker,api,ingest,pipeline,scheduler"
MARKS = dict(ALL_MARKS)


def one_run(data_dir: Path, roles: str) -> dict[str, float]:
    started = time.monotonic()
    seen: dict[str, float] = {}
    done = threading.Event()
    proc = subprocess.Popen(
        [CLOUD, "demo", "up", "--data-dir", str(data_dir), "--roles", roles],
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
    parser.add_argument("--roles", default=ROLES, help=f"serve's roles (default {ROLES})")
    args = parser.parse_args()
    roles = set(args.roles.split(","))
    for name, role in NEEDS_ROLE.items():
        if role not in roles:
            del MARKS[name]
    results = []
    for i in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="labcal-demo-bench-") as tmp:
            results.append(one_run(Path(tmp) / "demo", args.roles))
        print(f"run {i + 1}: " + ", ".join(f"{k} {v:.1f} s" for k, v in results[-1].items()))
    print(f"\nlabcal-cloud demo up, median of {args.runs} runs (seconds from start):")
    for name in [*MARKS, "stop after SIGINT"]:
        values = [r[name] for r in results]
        print(f"  {name:<24} {statistics.median(values):6.1f} s  (min {min(values):.1f})")


if __name__ == "__main__":
    main()
