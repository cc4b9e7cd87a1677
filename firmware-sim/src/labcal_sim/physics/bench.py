"""Coupling: a pipette dispensing into the open vessel on a balance (ground truth recorded).

``mass (mg) = delivered volume (µL) / Z``, Z from :func:`labcal_shared.iso8655.zfactor.z_factor`
at the bench's current conditions; the balance model then loses that liquid by evaporation like
any other. Each dispense is recorded as a :class:`DispenseTruth`, so a test or a backtest can
compare what the edge measured with what really happened.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from labcal_shared.iso8655.zfactor import z_factor
from labcal_sim.physics.balance import BalanceModel
from labcal_sim.physics.environment import EnvironmentModel

__all__ = ["Bench", "DispenseTruth"]


@dataclass(frozen=True, slots=True)
class DispenseTruth:
    at: float
    serial: str
    set_ul: float
    delivered_ul: float
    mass_mg: float
    z_ul_per_mg: float


@dataclass(slots=True)
class Bench:
    balance: BalanceModel
    environment: EnvironmentModel = field(default_factory=EnvironmentModel)
    truth: list[DispenseTruth] = field(default_factory=list)

    def z(self, now: float) -> float:
        c = self.environment.conditions(now)
        return z_factor(c.water_temp_c, c.pressure_kpa, c.humidity_pct, c.air_temp_c)

    def receive(self, serial: str, set_ul: float, delivered_ul: float, now: float) -> float:
        """Put ``delivered_ul`` of water into the vessel; returns the mass added (mg)."""
        z = self.z(now)
        mass = delivered_ul / z
        self.balance.add_liquid(mass, now)
        self.truth.append(DispenseTruth(now, serial, set_ul, delivered_ul, mass, z))
        return mass
