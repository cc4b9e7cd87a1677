"""The fault benchmark at CI size (``bench_faults.py --quick --json``): the whole chain as OS
processes (private PostgreSQL cluster, private Mosquitto, 2 ingest workers, 4 edge agents,
simulated devices) under one fault of each kind; nothing lost, doubled or changed.

Needs root (a tmpfs for the outbox disk), PostgreSQL's binaries and Mosquitto; about 1-2 min.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_faults.py"
PG_BIN = Path(os.environ.get("LABCAL_PG_BIN", "/usr/lib/postgresql/15/bin"))

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="mounts a tmpfs: needs root"),
    pytest.mark.skipif(not (PG_BIN / "initdb").exists(), reason=f"no initdb in {PG_BIN}"),
    pytest.mark.skipif(shutil.which("mosquitto") is None, reason="mosquitto not installed"),
]


def test_quick_fault_run_loses_and_doubles_nothing() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--json", "--seed", "7", "--drain-timeout", "180"],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.stdout.strip(), done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    kinds = report["messages_by_kind"]
    for kind in ("reading", "reading_batch", "usage_report", "gravimetric_run", "device_event"):
        assert kinds.get(kind, 0) > 0, kinds
    assert report["committed"] >= 2000
    faults = " ".join(report["faults"])
    for what in ("ingest worker 0", "ingest worker 1", "the broker", "PostgreSQL", "edge agent"):
        assert what in faults
    assert "TCP" in faults
    assert "outbox disk" in faults
    assert report["operator_message"] is True
    assert report["refused_by_full_outbox"] > 0  # the full disk refused new readings …
    assert report["lost"] == 0  # … and nothing committed was lost
    assert report["doubled"] == 0
    assert report["changed"] == 0
    assert report["unexpected"] == 0
    assert report["stored"] == report["committed"]
    assert report["left_in_outboxes"] == 0
    assert report["drain_after_last_fault_s"] is not None
    assert done.returncode == 0, done.stderr[-3000:]
