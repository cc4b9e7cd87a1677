import itertools
import logging

import pytest

from labcal_edge.backoff import Backoff
from labcal_edge.errors import DeviceUnavailableError
from labcal_edge.supervisor import Supervised


class FakeDevice:
    """A port-level fake: connect fails while ``present`` is False."""

    def __init__(self) -> None:
        self.present = False
        self.connects = 0
        self.closes = 0

    def connect(self) -> str:
        self.connects += 1
        if not self.present:
            raise DeviceUnavailableError("no such device")
        return "ident"

    def close(self) -> None:
        self.closes += 1


def test_reopen_follows_backoff_and_logs_an_outage_once(caplog: pytest.LogCaptureFixture) -> None:
    clock = [0.0]
    dev = FakeDevice()
    changes: list[bool] = []
    sup = Supervised(
        "bal",
        "/dev/x",
        dev.connect,
        dev.close,
        backoff=Backoff(base=1.0, cap=4.0, jitter=0.0),
        rand=lambda: 0.0,
        now=lambda: clock[0],
        on_change=lambda s: changes.append(s.available),
    )
    caplog.set_level(logging.DEBUG, "labcal_edge.devices")
    attempts_at = []
    for step in range(0, 200):
        clock[0] = step * 0.1
        before = dev.connects
        sup.ensure()
        if dev.connects > before:
            attempts_at.append(round(clock[0], 1))
    # attempts at 0, then after 1, 2, 4, 4, 4 ... seconds (capped)
    gaps = [round(b - a, 1) for a, b in itertools.pairwise(attempts_at)]
    assert gaps[:5] == [1.0, 2.0, 4.0, 4.0, 4.0]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1  # one warning per outage, retries at debug level
    dev.present = True
    clock[0] += 5
    assert sup.ensure()
    assert sup.identity == "ident"
    assert changes == [True]
    sup.fail(OSError("EIO"))
    assert not sup.available
    assert changes == [True, False]
    assert dev.closes >= 1
