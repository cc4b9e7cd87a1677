"""The port every simulated device implements: bytes in, bytes out, driven by time.

A device is a pure state machine. The serve loop (:mod:`labcal_sim.serve`) feeds it whatever the
transport received (:meth:`Device.receive`) and asks it regularly for time-driven output
(:meth:`Device.poll`: a pending ``S`` that became stable, a ``SIR`` stream, an unsolicited event).
Both return complete lines, each with its terminator, in the order they must be sent.
"""

from __future__ import annotations

from typing import Protocol

from labcal_shared.protocols.lines import LineSplitter

__all__ = ["Device", "LineDevice"]


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

    def identity(self) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    def receive(self, data: bytes, now: float) -> list[bytes]:
        out: list[bytes] = []
        for line in self._splitter.feed(data).lines:
            out.extend(self.handle_line(line, now))
        return out

    def handle_line(self, line: bytes, now: float) -> list[bytes]:  # pragma: no cover
        raise NotImplementedError

    def poll(self, now: float) -> list[bytes]:
        return []
