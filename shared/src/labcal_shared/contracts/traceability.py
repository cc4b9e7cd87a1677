"""What a run says about its traceability and test item beyond the masses (ISO/IEC 17025 §7.8).

The station knows which tips were used and which balance, thermometer, barometer and hygrometer
measured, with the references of their own calibration certificates; a certificate states them,
and says "not stated" where the station did not send them.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["InstrumentRole", "MeasuringInstrument", "Tip"]

_Text = Annotated[str, Field(min_length=1, max_length=128)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class InstrumentRole(StrEnum):
    BALANCE = "balance"
    THERMOMETER = "thermometer"  # water (and air) temperature
    BAROMETER = "barometer"
    HYGROMETER = "hygrometer"


class MeasuringInstrument(_Model):
    """One instrument of the measurement, identified, with its own calibration certificate."""

    role: InstrumentRole
    make: _Text
    model: _Text
    serial: _Text
    certificate: _Text | None = None  # the reference of its calibration certificate
    calibrated_by: _Text | None = None  # the laboratory (and accreditation) that issued it
    valid_until: date | None = None


class Tip(_Model):
    """The tips used: ISO 8655 tests the pipette and its tip as one system."""

    make: _Text
    model: _Text
    lot: _Text | None = None
