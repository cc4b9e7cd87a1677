"""The serve loop as a supervisor: a failing device is recorded and serving goes on."""

from __future__ import annotations

import logging
import random
import time

import pytest

from labcal_sim.ports import ManualClock
from labcal_sim.serve import DeviceServer
from labcal_sim.transport.link import InProcessLink


class _Flaky:
    """Echoes lines, but raises on ``boom``."""

    kind = "test"

    def identity(self) -> str:
        return "flaky"

    def receive(self, data: bytes, now: float) -> list[bytes]:
        if b"boom" in data:
            raise RuntimeError("device bug")
        return [data]

    def poll(self, now: float) -> list[bytes]:
        return []


def test_a_device_error_is_logged_and_serving_continues(caplog: pytest.LogCaptureFixture):
    link = InProcessLink()
    server = DeviceServer(_Flaky(), link, ManualClock(), random.Random(1)).start()
    try:
        assert link.host is not None
        link.host.settimeout(10.0)
        with caplog.at_level(logging.ERROR, logger="labcal_sim.serve"):
            link.host.sendall(b"boom\r\n")
            deadline = time.monotonic() + 10.0
            while not server.errors:
                assert time.monotonic() < deadline, "the device error was not recorded"
                time.sleep(0.01)
            link.host.sendall(b"ping\r\n")
            assert link.host.recv(1024) == b"ping\r\n"
        assert server.errors == ["RuntimeError: device bug"]
        assert "simulated test failed" in caplog.text
    finally:
        server.stop()
