"""mt-sics-emulator (PyPI) as a new user runs it: ``mtsics-tcp`` with its HTTP control port.

The emulator is a subprocess speaking MT-SICS on TCP (the edge opens it as ``socket://host:port``);
its control API places loads that settle like real ones (exponential, tau 0.4 s, stable when the
readings of the last second stay within one graduation).
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

_BIN = Path(sys.executable).parent / "mtsics-tcp"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Emulator:
    port: int
    control_port: int
    process: subprocess.Popen[str]

    @property
    def url(self) -> str:
        return f"socket://127.0.0.1:{self.port}"

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.control_port}{path}",
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=5) as resp:
            result: dict[str, Any] = json.loads(resp.read() or b"{}")
            return result

    def state(self) -> dict[str, Any]:
        url = f"http://127.0.0.1:{self.control_port}/state"
        with urllib.request.urlopen(url, timeout=5) as resp:
            result: dict[str, Any] = json.loads(resp.read())
            return result

    def place(self, grams: float) -> None:
        """Set the load on the pan; it settles like a real one."""
        self._post("/weight", {"target": grams})

    def snap(self, grams: float) -> None:
        self._post("/weight", {"value": grams, "snap": True})


@contextmanager
def emulator(profile: str = "mt-xs204") -> Iterator[Emulator]:
    if not _BIN.exists() and shutil.which("mtsics-tcp") is None:
        pytest.fail("mt-sics-emulator is not installed (it is in requirements-dev.txt)")
    port, control = _free_port(), _free_port()
    binary = str(_BIN) if _BIN.exists() else "mtsics-tcp"
    proc = subprocess.Popen(
        [
            binary,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--profile",
            profile,
            "--control-port",
            str(control),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    emu = Emulator(port, control, proc)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                emu.state()
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    pass
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("mt-sics-emulator did not start") from None
                time.sleep(0.1)
        yield emu
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
