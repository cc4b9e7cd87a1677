"""Environment sensor driver (``ID`` / ``MEAS`` over the LabCal line protocol)."""

from __future__ import annotations

from labcal_edge.drivers.garbage import GarbageLog
from labcal_edge.drivers.lineproto import LineProtocolClient, ok
from labcal_edge.drivers.link import SerialLink
from labcal_shared.protocols.sensor import Conditions, conditions_from

__all__ = ["SensorDriver"]


class SensorDriver:
    def __init__(self, link: SerialLink, garbage: GarbageLog, timeout_s: float = 2.0) -> None:
        self.link = link
        self.client = LineProtocolClient(link, garbage, timeout_s)

    def connect(self) -> tuple[str, str]:
        """Open the port; return (model, serial)."""
        self.link.open()
        self.link.discard_input()
        reply = ok(self.client.ask("ID"))
        return reply.fields.get("model", "sensor"), reply.get("serial")

    def measure(self) -> Conditions:
        return conditions_from(self.client.ask("MEAS"))
