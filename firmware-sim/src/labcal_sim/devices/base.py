"""The port every simulated device implements: bytes in, bytes out, driven by time.

A device is a pure state machine. The serve loop (:mod:`labcal_sim.serve`) feeds it whatever the
transport received (:meth:`Device.receive`) and asks it regularly for time-driven output
(:meth:`Device.poll`: a pending ``S`` that became stable, a ``SIR`` stream, an unsolicited event).
Both return complete lines, each with its terminator, in the order they must be sent.
"""

from __future__ import annotations

from typing import Protocol

from labcal_shared.protocols.lines import DEFAULT_MAX_LINE, LineSplitter

__all__ = ["Device", "LineDevice", "count_overlong"]


def count_overlong(run: int, data: bytes, limit: int) -> tuple[int, int]:
    """How many lines grow beyond ``limit`` bytes in ``data`` (each counted once, when it
    crosses the limit), given ``run`` bytes already received since the last terminator.
    Returns that count and the new run length."""
    crossings = 0
    for byte in data:
        if byte in (0x0D, 0x0A):
            run = 0
            continue
        run += 1
        if run == limit + 1:
            crossings += 1
    return crossings, run


class Device(Protocol):
    #: What the station prints: kind (``balance``, ``pipette``, ``sensor``, ``scanner``).
    kind: str

    def identity(self) -> str:
        """Make, model and serial number, for the station listing."""
        ...

    def receive(self, data: bytes, now: float) -> list[bytes]: ...

    def poll(self, now: float) -> list[bytes]: ...


class LineDevice:
    """Base for devices whose host commands are lines (MT-SICS, A&D, pipette, sensor)."""

    kind = "device"

    def __init__(self) -> None:
        self._splitter = LineSplitter()
        self._run = 0  # bytes since the last line terminator

    def identity(self) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    def receive(self, data: bytes, now: float) -> list[bytes]:
        overlong, self._run = count_overlong(self._run, data, DEFAULT_MAX_LINE)
        out: list[bytes] = []
        for _ in range(overlong):
            out.extend(self.handle_overlong(now))
        for line in self._splitter.feed(data).lines:
            out.extend(self.handle_line(line, now))
        return out

    def handle_overlong(self, now: float) -> list[bytes]:
        """Answer to a line longer than the input buffer (dropped unread). Default: nothing."""
        return []

    def handle_line(self, line: bytes, now: float) -> list[bytes]:  # pragma: no cover
        raise NotImplementedError

    def poll(self, now: float) -> list[bytes]:
        return []
