"""Start ``scripts/run`` (``labcal-cloud demo up``) as a subprocess and follow its output
(helpers for the demo tests)."""

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

ROOT = Path(__file__).resolve().parents[2]
CLOUD = str(Path(sys.executable).parent / "labcal-cloud")


class DemoProcess:
    def __init__(self, proc: subprocess.Popen[str], data_dir: Path) -> None:
        self.proc = proc
        self.data_dir = data_dir
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

    def wait_line(self, pattern: str, timeout_s: float) -> re.Match[str]:
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while True:
                for line in self.lines:
                    found = regex.search(line)
                    if found:
                        return found
                if self.proc.poll() is not None and not self._reader.is_alive():
                    pytest.fail(f"the demo exited ({self.proc.returncode}):\n{self.output()}")
                if time.monotonic() > deadline:
                    pytest.fail(f"no line matching {pattern!r} in {timeout_s} s:\n{self.output()}")
                self._changed.wait(1.0)

    def child_pids(self) -> set[int]:
        return {int(m) for m in re.findall(r"\(pid (\d+)", self.output())}

    def stop(self, signum: int, timeout_s: float = 90) -> int:
        self.proc.send_signal(signum)
        code = self.proc.wait(timeout_s)
        self._reader.join(10)
        return code


def processes_mentioning(text: str) -> list[int]:
    """Pids whose command line or environment mentions ``text`` (the demo's data dir)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            blob = (entry / "cmdline").read_bytes() + (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().split(") ", 1)[1][:1]
        except OSError:
            continue
        if text.encode() in blob and state != "Z":
            found.append(int(entry.name))
    return found


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
        time.sleep(1.0)


@contextmanager
def demo(data_dir: Path, *extra: str) -> Iterator[DemoProcess]:
    env = dict(os.environ)
    env.pop("LABCAL_DATABASE_URL", None)
    env.pop("LABCAL_MQTT_URL", None)
    env.pop("LABCAL_DEMO_BROKER", None)
    proc = subprocess.Popen(
        [str(ROOT / "scripts" / "run"), "--data-dir", str(data_dir), "--devices", "20", *extra],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=True,
    )
    running = DemoProcess(proc, data_dir)
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
