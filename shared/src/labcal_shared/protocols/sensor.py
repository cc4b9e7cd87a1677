"""LabCal environment sensor line protocol (air and water temperature, pressure, humidity).

Same grammar as the smart-pipette protocol (:mod:`labcal_shared.protocols.pipette`): ASCII lines,
``CR LF``, ``<COMMAND> OK key=value …`` or ``<COMMAND> ERR <code> "<message>"``.

=============  ===============================================================================
host → sensor  sensor → host
=============  ===============================================================================
``ID``         ``ID OK make=LabCal model=ENV-1 serial=ENV-0001 fw=1.0.0 channels=1``
``MEAS``       ``MEAS OK t=21.52 tw=21.31 p=101.32 rh=45.1`` (air °C, water °C, kPa, %RH)
=============  ===============================================================================

Documented in ``docs/protocols/pipette.md`` (section "Environment sensor").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from labcal_shared.errors import ProtocolError
from labcal_shared.protocols.pipette import OkReply, PipetteLine, format_reply

__all__ = ["Conditions", "conditions_from", "format_conditions"]


@dataclass(frozen=True, slots=True)
class Conditions:
    """One measurement: air temperature °C, water temperature °C, pressure kPa, humidity %RH."""

    air_temp_c: float
    water_temp_c: float
    pressure_kpa: float
    humidity_pct: float


def format_conditions(conditions: Conditions) -> bytes:
    """The ``MEAS`` reply line for ``conditions`` (2 decimals for °C and kPa, 1 for %RH)."""
    return format_reply(
        OkReply(
            "MEAS",
            {
                "t": f"{conditions.air_temp_c:.2f}",
                "tw": f"{conditions.water_temp_c:.2f}",
                "p": f"{conditions.pressure_kpa:.2f}",
                "rh": f"{conditions.humidity_pct:.1f}",
            },
        )
    )


def conditions_from(reply: PipetteLine) -> Conditions:
    """Read a parsed ``MEAS OK`` reply; :class:`ProtocolError` for anything else."""
    if not isinstance(reply, OkReply) or reply.command != "MEAS":
        raise ProtocolError(f"expected a MEAS OK reply, got {reply!r}")
    try:
        values = [float(reply.get(key)) for key in ("t", "tw", "p", "rh")]
    except ValueError:
        raise ProtocolError(f"MEAS reply has a field that is not a number: {reply!r}") from None
    if not all(math.isfinite(v) for v in values):  # float() reads "nan", "inf" and "1e999"
        raise ProtocolError(f"MEAS reply has a field that is not a finite number: {reply!r}")
    return Conditions(*values)
