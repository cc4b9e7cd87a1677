"""Start ``labcal-cloud serve`` as a subprocess and follow its output (helpers for these tests)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CLOUD = str(Path(sys.executable).parent / "labcal-cloud")


class Running:
    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def output(self) -> str:
        with self._changed:
            return "\n".join(self.lines)

    def wait_line(self, pattern: str, timeout_s: float, after: int = 0) -> re.Match[str]:
        """The first line from index ``after`` on matching ``pattern``."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while True:
                for line in self.lines[after:]:
                    found = regex.search(line)
                    if found:
                        return found
                if self.proc.poll() is not None and not self._reader.is_alive():
                    pytest.fail(f"serve exited ({self.proc.returncode}):\n{self.output()}")
                if time.monotonic() > deadline:
                    pytest.fail(f"no line matching {pattern!r} in {timeout_s} s:\n{self.output()}")
                self._changed.wait(1.0)

    def stop(self, signum: int = signal.SIGTERM, timeout_s: float = 90) -> int:
        self.proc.send_signal(signum)
        code = self.proc.wait(timeout_s)
        self._reader.join(10)
        return code


def serve_env() -> dict[str, str]:
    env = dict(os.environ)
    for name in ("LABCAL_DATABASE_URL", "LABCAL_MQTT_URL", "LABCAL_DEMO_BROKER"):
        env.pop(name, None)
    for name in ("LABCAL_LINK_SECRET", "LABCAL_SIGNING_KEY", "LABCAL_SIGNING_CERT"):
        env.pop(name, None)
    return env


@contextmanager
def serve(*args: str, env: dict[str, str] | None = None) -> Iterator[Running]:
    proc = subprocess.Popen(
        [CLOUD, "serve", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env or serve_env(),
        start_new_session=True,
    )
    running = Running(proc)
    try:
        yield running
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        running._reader.join(10)
        if proc.stdout is not None:
            proc.stdout.close()


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.split(") ", 1)[1][:1] != "Z"


def wait_until(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.5)


def has_command(*argv: str) -> bool:
    """``labcal-cloud ARGV --help`` exits 0 (the command is installed)."""
    done = subprocess.run([CLOUD, *argv, "--help"], capture_output=True, timeout=120, check=False)
    return done.returncode == 0
