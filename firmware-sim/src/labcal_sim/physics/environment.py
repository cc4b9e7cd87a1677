"""Room and water conditions of a station, varying slowly and deterministically with time."""

from __future__ import annotations

import math
from dataclasses import dataclass

from labcal_shared.protocols.sensor import Conditions

__all__ = ["EnvironmentModel"]

_DAY_S = 86400.0


@dataclass(frozen=True, slots=True)
class EnvironmentModel:
    """Mean conditions plus a daily swing of ``swing_c`` in air (and half of it in water).

    The room's humidity is 55 % RH, inside ISO 8655-6's "above 50 %": at exactly 50 % the
    sensor's noise put every other run below the limit, so the demo's certificates could state
    no conformity for a reason the simulated lab was never meant to have."""

    air_temp_c: float = 21.5
    water_temp_c: float = 21.2
    pressure_kpa: float = 101.3
    humidity_pct: float = 55.0
    swing_c: float = 0.3

    def conditions(self, now: float) -> Conditions:
        phase = math.sin(2.0 * math.pi * now / _DAY_S)
        return Conditions(
            air_temp_c=self.air_temp_c + self.swing_c * phase,
            water_temp_c=self.water_temp_c + 0.5 * self.swing_c * phase,
            pressure_kpa=self.pressure_kpa,
            humidity_pct=self.humidity_pct,
        )
