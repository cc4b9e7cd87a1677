"""The production processes of one LabCal deployment, each a separate OS process started with
the command the deploy files run (compose / Kubernetes), plus a private Mosquitto, a simulated
balance station on ptys and real edge agents. Helpers for the end-to-end test."""

from __future__ import annotations

import getpass
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(0.3)


@dataclass
class Process:
    name: str
    argv: list[str]
    log: Path
    proc: subprocess.Popen[bytes]

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def alive(self) -> bool:
        return self.proc.poll() is None

    def wait_text(self, pattern: str, timeout_s: float) -> re.Match[str]:
        regex = re.compile(pattern, re.M)
        deadline = time.monotonic() + timeout_s
        while True:
            found = regex.search(self.text())
            if found:
                return found
            if not self.alive():
                pytest.fail(f"{self.name} exited ({self.proc.returncode}):\n{self.text()[-4000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"{self.name}: no {pattern!r} in {timeout_s} s:\n{self.text()[-4000:]}")
            time.sleep(0.2)

    def stop(self, timeout_s: float = 60) -> int:
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail(f"{self.name} did not stop within {timeout_s} s:\n{self.text()[-4000:]}")


@dataclass
class Deployment:
    root: Path
    env: dict[str, str]
    processes: list[Process] = field(default_factory=list)
    started: int = 0

    def start(self, name: str, argv: list[str], *, env: dict[str, str] | None = None) -> Process:
        self.started += 1
        log = self.root / "logs" / f"{name}-{self.started}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env or self.env,
                start_new_session=True,
            )
        p = Process(name, argv, log, proc)
        self.processes.append(p)
        return p

    def cloud(self, name: str, *args: str) -> Process:
        return self.start(name, [str(BIN / "labcal-cloud"), *args])

    def run_cloud(self, *args: str) -> str:
        """A one-shot ``labcal-cloud`` command (migrate, station add…); must exit 0."""
        done = subprocess.run(
            [str(BIN / "labcal-cloud"), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert done.returncode == 0, f"labcal-cloud {' '.join(args)}:\n{done.stdout}{done.stderr}"
        return done.stdout

    def stop_all(self) -> dict[str, int]:
        """SIGTERM in reverse start order; the exit code of every process still running."""
        codes = {}
        for p in reversed(self.processes):
            if p.alive():
                codes[p.name] = p.stop()
        self.processes.clear()
        return codes


def mosquitto(deployment: Deployment, port: int) -> Process:
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not os.path.exists(binary):
        pytest.skip("mosquitto is not installed (scripts/test installs it)")
    conf = deployment.root / "mosquitto.conf"
    conf.write_text(
        f"user {getpass.getuser()}\nlistener {port} 127.0.0.1\nallow_anonymous true\n"
        "persistence false\nmax_queued_messages 100000\n"
    )
    broker = deployment.start("mosquitto", [binary, "-c", str(conf)])
    wait_until(lambda: _port_open(port), 30, "the broker")
    return broker


def _port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False
