"""SIGTERM on the cloud's loop processes (real subprocesses, real broker and database): the
current pass finishes and the process exits 0."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from labcal_cloud.ops.shutdown import stop_on_signals

CLOUD = str(Path(sys.executable).parent / "labcal-cloud")


@contextmanager
def _process(argv: list[str], env: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()


def _wait_for(proc: subprocess.Popen[str], text: str) -> list[str]:
    """Lines up to (and including) the first that contains ``text``; fails if it exits first."""
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if text in line:
            return seen
    pytest.fail(f"exited ({proc.wait()}) before printing {text!r}:\n{''.join(seen)}")


def _wait_until_it_catches(
    proc: subprocess.Popen[str], signum: int, timeout_s: float = 120
) -> None:
    """Poll the kernel's view (SigCgt) until the process has a handler for ``signum``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the process exited"
        for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
            if line.startswith("SigCgt:") and int(line.split()[1], 16) >> (signum - 1) & 1:
                return
        time.sleep(0.2)
    pytest.fail(f"the process never installed a handler for signal {signum}")


def test_ingest_exits_0_on_sigterm(tmp_path: Path, mqtt_url: str, tenant_id: str) -> None:
    env = dict(os.environ, LABCAL_DATABASE_URL=f"sqlite:///{tmp_path / 'i.sqlite3'}",
               LABCAL_MQTT_URL=mqtt_url)  # fmt: skip
    subprocess.run([CLOUD, "migrate"], env=env, check=True, capture_output=True)
    argv = [CLOUD, "ingest", "--client-id", f"ops-{tenant_id}", "--group", tenant_id,
            "--tenant-filter", tenant_id, "--session-expiry", "0"]  # fmt: skip
    with _process(argv, env) as proc:
        _wait_for(proc, "subscribed")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0


@pytest.mark.postgres
def test_scheduler_exits_0_on_sigterm(fresh_database_url: str) -> None:
    env = dict(os.environ, LABCAL_DATABASE_URL=fresh_database_url, LABCAL_LOG_FORMAT="json")
    subprocess.run([CLOUD, "migrate"], env=env, check=True, capture_output=True)
    argv = [CLOUD, "-v", "scheduler", "run", "--worker", "ops-test", "--interval", "30"]
    with _process(argv, env) as proc:
        _wait_until_it_catches(proc, signal.SIGTERM)  # its loop has started
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
        assert proc.stdout is not None
        out = proc.stdout.read()
    assert "scheduler ops-test: 0 sent" in out


def test_stop_on_signals_sets_the_event_and_restores_handlers() -> None:
    before = signal.getsignal(signal.SIGUSR2)
    with stop_on_signals(signal.SIGUSR2) as stop:
        os.kill(os.getpid(), signal.SIGUSR2)
        assert stop.wait(10)
    assert signal.getsignal(signal.SIGUSR2) is before
