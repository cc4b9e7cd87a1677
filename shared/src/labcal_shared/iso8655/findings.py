"""Findings: structured, person-readable remarks on a run (not exceptions).

A finding of severity ``warning`` means the run cannot support a claim of conformity with
ISO 8655 even if the pipette met the MPE; ``gap`` means the procedure was incomplete, so no
statement is made at all (see :mod:`labcal_shared.iso8655.procedure` and
:func:`labcal_shared.iso8655.verdict.judge`); ``info`` findings are remarks for the record.
Conditions come from ISO 8655-6:2002/2022 as reproduced by manufacturers (reference §2).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from labcal_shared.iso8655.balance import balance_requirement
from labcal_shared.iso8655.inputs import Environment

__all__ = [
    "REQUIRED_REPLICATES",
    "Finding",
    "FindingCode",
    "Severity",
    "balance_findings",
    "environment_findings",
    "evaporation_findings",
    "replicate_findings",
]

REQUIRED_REPLICATES: Final = 10
ROOM_TEMP_RANGE_C: Final = (15.0, 30.0)
MAX_ROOM_TEMP_SPAN_C: Final = 0.5
MAX_WATER_AIR_DIFF_C: Final = 0.5
MIN_HUMIDITY_PCT: Final = 50.0


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    GAP = "gap"


class FindingCode(StrEnum):
    TOO_FEW_REPLICATES = "too_few_replicates"
    EXTRA_REPLICATES = "extra_replicates"
    BALANCE_TOO_COARSE = "balance_too_coarse"
    NO_BALANCE_REQUIREMENT = "no_balance_requirement"
    ROOM_TEMP_OUT_OF_RANGE = "room_temp_out_of_range"
    ROOM_TEMP_UNSTABLE = "room_temp_unstable"
    WATER_AIR_TEMP_DIFFERENCE = "water_air_temp_difference"
    HUMIDITY_LOW = "humidity_low"
    NO_EVAPORATION_DATA = "no_evaporation_data"
    NEGATIVE_EVAPORATION = "negative_evaporation"
    WATER_TEMP_ASSUMED = "water_temp_assumed"
    BALANCE_OUT_OF_CALIBRATION = "balance_out_of_calibration"
    CHANNEL_NOT_TESTED = "channel_not_tested"
    CHANNEL_OUT_OF_RANGE = "channel_out_of_range"
    TEST_VOLUME_MISSING = "test_volume_missing"
    WATER_TEMP_START_END = "water_temp_start_end"


@dataclass(frozen=True, slots=True)
class Finding:
    code: FindingCode
    severity: Severity
    message: str
    volume_ul: float | None = None  # the test volume it concerns; None for the whole run


def replicate_findings(volume_ul: float, n: int) -> list[Finding]:
    if n < REQUIRED_REPLICATES:
        return [
            Finding(
                FindingCode.TOO_FEW_REPLICATES,
                Severity.WARNING,
                f"test volume {volume_ul:g} µL has {n} replicates; ISO 8655-6 asks for "
                f"{REQUIRED_REPLICATES}, so conformity cannot be claimed",
                volume_ul,
            )
        ]
    if n > REQUIRED_REPLICATES:
        return [
            Finding(
                FindingCode.EXTRA_REPLICATES,
                Severity.INFO,
                f"test volume {volume_ul:g} µL has {n} replicates instead of "
                f"{REQUIRED_REPLICATES}; all were used",
                volume_ul,
            )
        ]
    return []


def balance_findings(volume_ul: float, readability_mg: float) -> list[Finding]:
    req = balance_requirement(volume_ul)
    if req is None:
        return [
            Finding(
                FindingCode.NO_BALANCE_REQUIREMENT,
                Severity.INFO,
                f"ISO 8655-6:2002 gives no balance requirement for {volume_ul:g} µL "
                "(table covers 1 µL to 200 mL); balance not checked",
                volume_ul,
            )
        ]
    if readability_mg > req.resolution_mg:
        return [
            Finding(
                FindingCode.BALANCE_TOO_COARSE,
                Severity.WARNING,
                f"balance readability {readability_mg:g} mg is coarser than the "
                f"{req.resolution_mg:g} mg that ISO 8655-6:2002 requires for {volume_ul:g} µL",
                volume_ul,
            )
        ]
    return []


def environment_findings(env: Environment) -> list[Finding]:
    out: list[Finding] = []
    air = [s.air_temp_c for s in env.samples]
    low, high = ROOM_TEMP_RANGE_C
    if min(air) < low or max(air) > high:
        out.append(
            Finding(
                FindingCode.ROOM_TEMP_OUT_OF_RANGE,
                Severity.WARNING,
                f"room temperature {min(air):g}–{max(air):g} °C leaves the {low:g}–{high:g} °C "
                "that ISO 8655-6 requires",
            )
        )
    if max(air) - min(air) > MAX_ROOM_TEMP_SPAN_C:
        out.append(
            Finding(
                FindingCode.ROOM_TEMP_UNSTABLE,
                Severity.WARNING,
                f"room temperature varied by {max(air) - min(air):.2f} °C during the run "
                f"(allowed: {MAX_ROOM_TEMP_SPAN_C:g} °C)",
            )
        )
    diff = max(abs(s.water_temp_c - s.air_temp_c) for s in env.samples)
    if diff > MAX_WATER_AIR_DIFF_C:
        out.append(
            Finding(
                FindingCode.WATER_AIR_TEMP_DIFFERENCE,
                Severity.WARNING,
                f"water and air temperature differ by up to {diff:.2f} °C "
                f"(allowed: {MAX_WATER_AIR_DIFF_C:g} °C)",
            )
        )
    humidity = min(s.humidity_pct for s in env.samples)
    if humidity < MIN_HUMIDITY_PCT:
        out.append(
            Finding(
                FindingCode.HUMIDITY_LOW,
                Severity.WARNING,
                f"relative humidity fell to {humidity:g} %, below the {MIN_HUMIDITY_PCT:g} % "
                "that ISO 8655-6 asks for (evaporation risk)",
            )
        )
    return out


def evaporation_findings(volume_ul: float, evaporation_mg: float | None) -> list[Finding]:
    if evaporation_mg is None:
        return [
            Finding(
                FindingCode.NO_EVAPORATION_DATA,
                Severity.INFO,
                f"test volume {volume_ul:g} µL has no evaporation data; no evaporation "
                "correction applied (0 mg per cycle)",
                volume_ul,
            )
        ]
    if evaporation_mg < 0:
        return [
            Finding(
                FindingCode.NEGATIVE_EVAPORATION,
                Severity.WARNING,
                f"test volume {volume_ul:g} µL: evaporation per cycle is negative "
                f"({evaporation_mg:g} mg, a mass gain); check the evaporation weighings",
                volume_ul,
            )
        ]
    return []


def has_warnings(findings: Iterable[Finding]) -> bool:
    """Whether any finding keeps a statement of conformity from being made (warning or gap)."""
    return any(f.severity in (Severity.WARNING, Severity.GAP) for f in findings)
