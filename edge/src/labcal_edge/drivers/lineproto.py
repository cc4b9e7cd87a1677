"""Request/reply over the LabCal line protocol (smart pipette, environment sensor).

Unsolicited ``EVT`` lines may arrive between replies: they are kept for the caller
(:attr:`LineProtocolClient.events`). Unparseable lines are counted as garbage and skipped.
"""

from __future__ import annotations

import time

from labcal_edge.drivers.garbage import GarbageLog
from labcal_edge.drivers.link import SerialLink
from labcal_edge.errors import DeviceTimeoutError, EdgeError
from labcal_shared.errors import ProtocolError
from labcal_shared.protocols.pipette import (
    ErrorReply,
    Event,
    OkReply,
    PipetteLine,
    format_command,
    parse_line,
)

__all__ = ["DeviceCommandError", "LineProtocolClient"]


class DeviceCommandError(EdgeError):
    """The device answered ``<CMD> ERR <code>``."""

    def __init__(self, reply: ErrorReply) -> None:
        super().__init__(f"{reply.command} ERR {reply.code} {reply.message}".strip())
        self.reply = reply


class LineProtocolClient:
    def __init__(self, link: SerialLink, garbage: GarbageLog, timeout_s: float = 2.0) -> None:
        self.link = link
        self.garbage = garbage
        self.timeout_s = timeout_s
        self.events: list[Event] = []

    def ask(self, name: str, *args: str | int | float) -> PipetteLine:
        """Send a command; return its ``OK`` reply, raise :class:`DeviceCommandError` on ``ERR``."""
        self.link.write(format_command(name, *args))
        deadline = time.monotonic() + self.timeout_s
        while True:
            line = self.link.read_line(max(0.0, deadline - time.monotonic()))
            if line is None:
                raise DeviceTimeoutError(
                    f"{self.link.name}: no answer to {name} within {self.timeout_s:g} s"
                )
            parsed = self._parse(line)
            if parsed is None:
                continue
            if isinstance(parsed, Event):
                self.events.append(parsed)
                continue
            if parsed.command not in (name, "ERR"):
                continue  # a late reply to an earlier command
            if isinstance(parsed, ErrorReply):
                raise DeviceCommandError(parsed)
            return parsed

    def drain_events(self, timeout: float = 0.0) -> list[Event]:
        """Read whatever unsolicited lines are waiting; return and forget the events seen."""
        while True:
            line = self.link.read_line(timeout)
            if line is None:
                break
            parsed = self._parse(line)
            if isinstance(parsed, Event):
                self.events.append(parsed)
            timeout = 0.0
        events, self.events = self.events, []
        return events

    def _parse(self, line: bytes) -> PipetteLine | None:
        try:
            parsed = parse_line(line)
        except ProtocolError as exc:
            self.garbage.record(line, str(exc))
            return None
        self.garbage.good()
        return parsed


def ok(reply: PipetteLine) -> OkReply:
    assert isinstance(reply, OkReply)
    return reply
