"""The cloud's loop processes (real subprocesses, real broker and database): their ops endpoints
on LABCAL_METRICS_PORT, and SIGTERM — the current pass finishes and the process exits 0."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from labcal_cloud.ops.shutdown import run_off_main_thread, stop_on_signals

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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _get_when_up(port: int, path: str, timeout_s: float = 120) -> tuple[int, str]:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return _get(port, path)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_ingest_serves_ops_endpoints_and_exits_0_on_sigterm(
    tmp_path: Path, mqtt_url: str, tenant_id: str
) -> None:
    port = _free_port()
    env = dict(os.environ, LABCAL_DATABASE_URL=f"sqlite:///{tmp_path / 'i.sqlite3'}",
               LABCAL_MQTT_URL=mqtt_url, LABCAL_METRICS_PORT=str(port))  # fmt: skip
    subprocess.run([CLOUD, "migrate"], env=env, check=True, capture_output=True)
    argv = [CLOUD, "ingest", "--client-id", f"ops-{tenant_id}", "--group", tenant_id,
            "--tenant-filter", tenant_id, "--session-expiry", "0"]  # fmt: skip
    with _process(argv, env) as proc:
        _wait_for(proc, "subscribed")
        assert _get(port, "/healthz") == (200, '{"status": "ok"}')
        status, body = _get(port, "/readyz")
        assert (status, json.loads(body)["ready"]) == (200, True)
        assert _get(port, "/metrics")[0] == 200
        assert _get(port, "/nope")[0] == 404
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0


def test_portal_serve_finishes_and_exits_0_on_sigterm(tmp_path: Path) -> None:
    """uvicorn alone re-raises SIGTERM after its graceful shutdown (exit status -15)."""
    port = _free_port()
    env = dict(os.environ, LABCAL_DATABASE_URL=f"sqlite:///{tmp_path / 'p.sqlite3'}",
               LABCAL_LINK_SECRET="l" * 32)  # fmt: skip
    subprocess.run([CLOUD, "migrate"], env=env, check=True, capture_output=True)
    argv = [CLOUD, "portal-serve", "--port", str(port)]
    with _process(argv, env) as proc:
        assert _get_when_up(port, "/healthz")[0] == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
        assert proc.stdout is not None
        assert "Finished server process" in proc.stdout.read()


@pytest.mark.postgres
def test_scheduler_serves_ops_endpoints_and_exits_0_on_sigterm(fresh_database_url: str) -> None:
    port = _free_port()
    env = dict(os.environ, LABCAL_DATABASE_URL=fresh_database_url, LABCAL_LOG_FORMAT="json",
               LABCAL_METRICS_PORT=str(port))  # fmt: skip
    subprocess.run([CLOUD, "migrate"], env=env, check=True, capture_output=True)
    argv = [CLOUD, "-v", "scheduler", "run", "--worker", "ops-test", "--interval", "30"]
    with _process(argv, env) as proc:
        _wait_until_it_catches(proc, signal.SIGTERM)  # its loop has started
        assert _get_when_up(port, "/healthz")[0] == 200
        deadline = time.monotonic() + 60
        while _get(port, "/readyz")[0] != 200:  # ready after its first pass
            assert time.monotonic() < deadline, "never ready"
            time.sleep(0.2)
        metrics = _get(port, "/metrics")[1].splitlines()
        assert "labcal_scheduler_passes_total 1" in metrics
        assert 'labcal_scheduler_deliveries_total{kind="reminder",outcome="sent"} 0' in metrics
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


# One signal at a random moment while the main thread waits on the event again and again (each
# wait takes the event's lock), 200 times. A handler calling stop.set() itself hangs as soon as
# the signal lands while the main thread holds that lock: within the first trial or two here.
_ONE_SIGNAL_TRIALS = """
import os, random, signal, threading
from labcal_cloud.ops.shutdown import stop_on_signals
for trial in range(200):
    with stop_on_signals(signal.SIGUSR2) as stop:
        threading.Timer(random.uniform(0, 0.003), os.kill, (os.getpid(), signal.SIGUSR2)).start()
        while not stop.is_set():
            stop.wait(0)
print("trials", trial + 1, flush=True)
"""


def _run_script(source: str, if_it_hangs: str) -> str:
    """Run ``source`` in a fresh interpreter; its output. Fails with ``if_it_hangs`` after 60 s
    and with its stderr if it exits non-zero."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", source], capture_output=True, text=True, timeout=60
        )
    except subprocess.TimeoutExpired:
        pytest.fail(if_it_hangs)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_stop_on_signals_sets_its_event_while_the_main_thread_waits_on_it() -> None:
    out = _run_script(
        _ONE_SIGNAL_TRIALS, "the main thread hung: the signal handler waited for the event's lock"
    )
    assert out.split() == ["trials", "200"]


# A loop polling a SimpleQueue with a timeout while signals keep arriving (3 s of SIGUSR2, sent
# from a thread the loop starts). Run in the main thread, CPython 3.11 hangs in the timed get
# within a second or so; run_off_main_thread must keep it going and call stop for the signals.
_SIGNAL_STORM = """
import os, queue, signal, sys, threading, time
from labcal_cloud.ops.shutdown import run_off_main_thread
stops = []
def run():
    def storm():
        end = time.monotonic() + 3
        while time.monotonic() < end:
            os.kill(os.getpid(), signal.SIGUSR2)
            time.sleep(0.0002)
    sender = threading.Thread(target=storm)
    sender.start()
    polls, q = 0, queue.SimpleQueue()
    while sender.is_alive():
        try:
            q.get(timeout=0.001)
        except queue.Empty:
            polls += 1
    print("polls", polls, flush=True)
run_off_main_thread(run, lambda: stops.append(1), signal.SIGUSR2)
print("stops", len(stops), flush=True)
"""


def test_a_loop_run_off_the_main_thread_survives_a_storm_of_signals() -> None:
    out = _run_script(_SIGNAL_STORM, "the polling loop hung under signals")
    polls, stops = (int(line.split()[1]) for line in out.splitlines())
    assert polls > 100  # 3 s of 1 ms polls, on a loaded machine
    assert stops > 0


def test_run_off_main_thread_raises_what_the_loop_raised_and_restores_handlers() -> None:
    before = signal.getsignal(signal.SIGUSR2)
    seen: list[str] = []

    def run() -> None:
        seen.append("main" if threading.current_thread() is threading.main_thread() else "other")
        raise RuntimeError("loop failed")

    with pytest.raises(RuntimeError, match="loop failed"):
        run_off_main_thread(run, lambda: None, signal.SIGUSR2)
    assert seen == ["other"]
    assert signal.getsignal(signal.SIGUSR2) is before


def test_run_off_main_thread_stops_the_loop_on_a_signal() -> None:
    stop = threading.Event()

    def run() -> None:
        os.kill(os.getpid(), signal.SIGUSR2)
        assert stop.wait(30)

    run_off_main_thread(run, stop.set, signal.SIGUSR2)
    assert stop.is_set()
