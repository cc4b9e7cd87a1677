"""A balance reading, exactly as measured, as a contract payload (unit and value kept)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from labcal_shared.contracts import BatchedReading, MassUnit, Reading, ReadingStatus
from labcal_shared.protocols import WeightReading

__all__ = ["batched_value", "reading_payload", "unit_of"]

_UNITS = {"g": MassUnit.G, "mg": MassUnit.MG, "kg": MassUnit.KG, "ug": MassUnit.UG}


def unit_of(reading: WeightReading, default: MassUnit = MassUnit.G) -> MassUnit:
    return _UNITS.get(reading.unit, default)


def reading_payload(reading: WeightReading, run_id: UUID | None = None) -> Reading:
    """The contract :class:`Reading` for one balance value (over/underload carry no value)."""
    if reading.overload or reading.underload:
        status = ReadingStatus.OVERLOAD if reading.overload else ReadingStatus.UNDERLOAD
        return Reading(value=None, unit=MassUnit.G, stable=False, status=status, run_id=run_id)
    assert reading.value is not None
    return Reading(
        value=float(reading.value), unit=unit_of(reading), stable=reading.stable, run_id=run_id
    )


def batched_value(reading: WeightReading, at: datetime) -> BatchedReading:
    """One value of a :class:`~labcal_shared.contracts.ReadingBatch`, read at ``at``."""
    one = reading_payload(reading)
    return BatchedReading(
        value=one.value, unit=one.unit, stable=one.stable, status=one.status, device_time=at
    )
