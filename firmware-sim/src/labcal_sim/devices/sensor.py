"""An environment sensor (air/water temperature, pressure, humidity): ``ID`` and ``MEAS``.

Protocol in :mod:`labcal_shared.protocols.sensor` (same grammar as the pipette protocol).
"""

from __future__ import annotations

from labcal_shared.errors import ProtocolError
from labcal_shared.protocols.pipette import ErrorReply, OkReply, format_reply, parse_command
from labcal_shared.protocols.sensor import Conditions, format_conditions
from labcal_sim.devices.base import LineDevice
from labcal_sim.physics.environment import EnvironmentModel
from labcal_sim.ports import RandomSource

__all__ = ["EnvironmentSensor"]


class EnvironmentSensor(LineDevice):
    kind = "sensor"

    def __init__(
        self,
        environment: EnvironmentModel,
        rng: RandomSource,
        *,
        serial: str = "ENV-0001",
        model: str = "ENV-1",
    ) -> None:
        super().__init__()
        self.environment = environment
        self.serial = serial
        self.model = model
        self._rng = rng

    def identity(self) -> str:
        return f"LabCal {self.model} {self.serial} (LabCal sensor protocol)"

    def handle_overlong(self, now: float) -> list[bytes]:
        return [format_reply(ErrorReply("ERR", "SYNTAX", "line too long"))]

    def handle_line(self, line: bytes, now: float) -> list[bytes]:
        try:
            command = parse_command(line)
        except ProtocolError:
            return [format_reply(ErrorReply("ERR", "SYNTAX", "not a command"))]
        if command.args:
            return [format_reply(ErrorReply(command.name, "ARG", "no argument expected"))]
        if command.name == "ID":
            fields = {
                "make": "LabCal",
                "model": self.model,
                "serial": self.serial,
                "fw": "1.0.0",
                "channels": "1",
            }
            return [format_reply(OkReply("ID", fields))]
        if command.name == "MEAS":
            c = self.environment.conditions(now)
            g = self._rng.gauss
            measured = Conditions(
                c.air_temp_c + g(0.0, 0.02),
                c.water_temp_c + g(0.0, 0.02),
                c.pressure_kpa + g(0.0, 0.005),
                c.humidity_pct + g(0.0, 0.2),
            )
            return [format_conditions(measured)]
        return [format_reply(ErrorReply("ERR", "UNKNOWN", f"no command {command.name}"))]
