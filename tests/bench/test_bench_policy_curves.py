"""Smoke test of ``bench/bench_policy_curves.py --quick`` (30 pipettes, smoke seed 9, every
12th forecaster setting): it runs end to end, prints the budget table, and writes well-formed
curves and a PNG. No figures are asserted (they come from the full run, docs/forecasting.md)."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _by_knob(points: list[dict[str, object]], family: str) -> list[dict[str, object]]:
    return [p for p in points if p["family"] == family]


@pytest.mark.slow
def test_quick_run_prints_the_budget_rows_and_writes_curves(tmp_path: Path) -> None:
    out_json, out_png = tmp_path / "curves.json", tmp_path / "curves.png"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "bench_policy_curves.py"),
            "--quick",
            "--jobs",
            "1",
            "--json",
            str(out_json),
            "--plot",
            str(out_png),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    table = done.stdout.split("best simple policy vs forecaster at a budget")[1]
    rows = [
        line
        for line in table.splitlines()
        if line.startswith("| firmware-sim") or line.startswith("| synthetic")
    ]
    assert [r.split("|")[1:3] for r in rows] == [
        [f" {fleet} ", f" {b} "] for fleet in ("firmware-sim", "synthetic") for b in (1, 2, 4)
    ]
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = json.loads(out_json.read_text())
    assert set(data["fleets"]) == {"firmware-sim", "synthetic"}
    for fleet in data["fleets"].values():
        fixed = _by_knob(fleet["simple"], "fixed interval")  # 1 .. 24 months, in order
        assert len(fixed) == 24
        visits = [p["visits"] for p in fixed]
        assert all(a >= b for a, b in itertools.pairwise(visits))  # longer: fewer
        assert fixed[-1]["out_of_tolerance_days"] >= fixed[0]["out_of_tolerance_days"]
        usage = [p["visits"] for p in _by_knob(fleet["simple"], "usage interval")]
        assert all(a >= b for a, b in itertools.pairwise(usage))  # more cycles: fewer
        assert fleet["forecaster"], "the forecaster's chosen settings are scored"
        for p in fleet["simple"] + fleet["forecaster"] + fleet["forecaster_tuning"]:
            assert p["visits"] >= p["calibrations"] >= 0
            assert p["out_of_tolerance_days"] >= 0
            assert 0 <= p["flagged_ahead"] <= 1
        for p in fleet["forecaster"]:
            assert set(p["parameters"]) >= {"alert_probability", "guard", "lead_days"}
        chosen = {c for c in fleet["chosen"].values() if c}
        assert chosen <= {p["policy"] for p in fleet["forecaster"]}
