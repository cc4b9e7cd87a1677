"""Dialect selection: one entry point for drivers that do not care which balance they talk to."""

from __future__ import annotations

from enum import StrEnum

from labcal_shared.protocols import aandd, mtsics, sbi
from labcal_shared.protocols.reading import WeightReading

__all__ = ["Dialect", "parse_weight_line"]


class Dialect(StrEnum):
    """The balance protocols LabCal speaks."""

    MT_SICS = "mt-sics"
    SBI = "sbi"
    AND = "and"


def parse_weight_line(dialect: Dialect, line: str | bytes) -> WeightReading:
    """Parse one weight line in ``dialect``; :class:`ProtocolError` if it is not a weight."""
    if dialect is Dialect.MT_SICS:
        return mtsics.parse_weight(line)
    if dialect is Dialect.SBI:
        return sbi.parse_weight(line)
    return aandd.parse_weight(line)
