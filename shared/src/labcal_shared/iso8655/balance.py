"""Minimum balance requirements of ISO 8655-6:2002, by selected test volume.

Source: RADWAG, *Requirements for weighing instruments for calibration of pipettes*, and the
Eppendorf SOP §1.1.3 (resolution column), as collected in the team reference §2.1. Boundaries as the
Eppendorf SOP writes them: "1 µL to 10 µL", ">10 µL to 100 µL", ">100 µL to 1 000 µL",
">1 mL to 10 mL", ">10 mL to 200 mL". The last row's repeatability and standard uncertainty were
cut off in the copy and are left unknown (None). Below 1 µL and above 200 mL there is no row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "BALANCE_REQUIREMENTS_2002",
    "BalanceRequirement",
    "balance_requirement",
    "table_standard_uncertainty_mg",
]


@dataclass(frozen=True, slots=True)
class BalanceRequirement:
    """One row: selected volumes in (low_ul, high_ul] (the first row includes 1 µL)."""

    low_ul: float
    high_ul: float
    resolution_mg: float
    repeatability_mg: float | None
    standard_uncertainty_mg: float | None


BALANCE_REQUIREMENTS_2002: Final = (
    BalanceRequirement(1.0, 10.0, 0.001, 0.002, 0.002),
    BalanceRequirement(10.0, 100.0, 0.01, 0.02, 0.02),
    BalanceRequirement(100.0, 1000.0, 0.1, 0.2, 0.2),
    BalanceRequirement(1000.0, 10000.0, 0.1, 0.2, 0.2),
    BalanceRequirement(10000.0, 200000.0, 1.0, None, None),
)


def balance_requirement(volume_ul: float) -> BalanceRequirement | None:
    """The row that applies to a selected volume, or None outside 1 µL–200 mL."""
    first = BALANCE_REQUIREMENTS_2002[0]
    if first.low_ul <= volume_ul <= first.high_ul:
        return first
    for row in BALANCE_REQUIREMENTS_2002[1:]:
        if row.low_ul < volume_ul <= row.high_ul:
            return row
    return None


def table_standard_uncertainty_mg(volume_ul: ArrayLike) -> NDArray[np.float64]:
    """Vectorised: the table's standard uncertainty (mg) for each selected volume, 0.0 where the
    table gives none (above 10 mL, below 1 µL)."""
    v = np.asarray(volume_ul, dtype=np.float64)
    conditions = []
    values = []
    for i, row in enumerate(BALANCE_REQUIREMENTS_2002):
        low_ok = v >= row.low_ul if i == 0 else v > row.low_ul
        conditions.append(low_ok & (v <= row.high_ul))
        values.append(row.standard_uncertainty_mg or 0.0)
    return np.asarray(np.select(conditions, values, default=0.0), dtype=np.float64)
