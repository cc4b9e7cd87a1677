"""Mass units accepted by the ISO 8655 core, converted to milligrams."""

from __future__ import annotations

from typing import Final

from labcal_shared.errors import MeasurementInputError

__all__ = ["MASS_UNITS_TO_MG", "mass_factor_to_mg"]

MASS_UNITS_TO_MG: Final[dict[str, float]] = {
    "mg": 1.0,
    "g": 1000.0,
    "µg": 1e-3,  # micro sign U+00B5
    "μg": 1e-3,  # Greek small mu U+03BC
    "ug": 1e-3,
}


def mass_factor_to_mg(unit: str) -> float:
    """Factor that turns a mass in ``unit`` into mg; unknown units are refused."""
    try:
        return MASS_UNITS_TO_MG[unit]
    except KeyError:
        known = ", ".join(repr(u) for u in MASS_UNITS_TO_MG)
        raise MeasurementInputError(f"unknown mass unit {unit!r}; use one of {known}") from None
