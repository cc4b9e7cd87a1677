"""Smart-pipette driver (LabCal pipette protocol, ``docs/protocols/pipette.md``)."""

from __future__ import annotations

from labcal_edge.drivers.garbage import GarbageLog
from labcal_edge.drivers.lineproto import LineProtocolClient
from labcal_edge.drivers.link import SerialLink
from labcal_shared.protocols.pipette import (
    Counters,
    Event,
    Identity,
    Volume,
    counters_from,
    identity_from,
    volume_from,
)

__all__ = ["PipetteDriver"]


class PipetteDriver:
    def __init__(self, link: SerialLink, garbage: GarbageLog, timeout_s: float = 2.0) -> None:
        self.link = link
        self.client = LineProtocolClient(link, garbage, timeout_s)
        self.last_event_seq = 0

    def connect(self) -> Identity:
        self.link.open()
        self.link.discard_input()
        return self.identify()

    def identify(self) -> Identity:
        return identity_from(self.client.ask("ID"))

    def counters(self) -> Counters:
        return counters_from(self.client.ask("CNT"))

    def volume(self, set_ul: float | None = None) -> Volume:
        reply = self.client.ask("VOL") if set_ul is None else self.client.ask("VOL", set_ul)
        return volume_from(reply)

    def dispense(self) -> None:
        """One electronic dispense cycle (automated runs; an operator presses the button)."""
        self.client.ask("DISPENSE")

    def events(self) -> list[Event]:
        """New unsolicited events; asks the device to replay any gap in event numbers."""
        events = self.client.drain_events()
        if events and events[0].seq > self.last_event_seq + 1 and self.last_event_seq:
            self.client.ask("EVENTS", self.last_event_seq)
            events = sorted(
                {e.seq: e for e in events + self.client.drain_events()}.values(),
                key=lambda e: e.seq,
            )
        fresh = [e for e in events if e.seq > self.last_event_seq]
        if fresh:
            self.last_event_seq = fresh[-1].seq
        return fresh
