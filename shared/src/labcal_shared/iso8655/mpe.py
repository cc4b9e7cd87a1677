"""Maximum permissible errors (MPE) of ISO 8655-2, as versioned data keyed by edition.

The tables live in ``labcal_shared/data/iso8655_mpe.json`` and are read with importlib.resources.
Only ISO 8655-2:2002, single-channel air-displacement pipettes 1 µL–10 mL, is shipped. Rules:

- the µL limit of the *nominal* volume applies at every selected test volume;
- multichannel pipettes: the limits are multiplied by the edition's ``multichannel_factor`` (2);
- a nominal volume that is not a row of the table is refused: no source gives a rule for volumes
  between rows, and interpolating would invent limits;
- positive-displacement (type D) pipettes are refused: no 2002 table for them was found;
- an edition whose table is not shipped (e.g. "ISO 8655-2:2022") raises
  :class:`UnknownEditionError` naming the editions available — never a silent fallback.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labcal_shared.errors import MeasurementInputError, UnknownEditionError
from labcal_shared.iso8655.inputs import PipetteKind

__all__ = [
    "DEFAULT_EDITION",
    "Mpe",
    "MpeTable",
    "available_editions",
    "load_mpe_table",
    "mpe_arrays",
    "mpe_for",
]

DEFAULT_EDITION: Final = "ISO 8655-2:2002"
_DATA_FILE: Final = "iso8655_mpe.json"


@dataclass(frozen=True, slots=True)
class Mpe:
    """Limits at one test volume, in µL (both compared as absolute values)."""

    systematic_ul: float
    random_ul: float


@dataclass(frozen=True, slots=True)
class MpeTable:
    """One edition's table for one pipette kind (single channel, at nominal volume)."""

    edition: str
    kind: PipetteKind
    nominal_ul: tuple[float, ...]
    systematic_ul: tuple[float, ...]
    random_ul: tuple[float, ...]
    multichannel_factor: float
    source: str

    def row_index(self, nominal_volume_ul: float) -> int:
        """Index of the row for ``nominal_volume_ul``; refuses volumes between rows."""
        for i, nominal in enumerate(self.nominal_ul):
            if nominal == nominal_volume_ul:
                return i
        rows = ", ".join(f"{v:g}" for v in self.nominal_ul)
        raise MeasurementInputError(
            f"nominal volume {nominal_volume_ul:g} µL is not a row of the {self.edition} MPE table "
            f"(rows: {rows} µL); no sourced rule exists for nominal volumes between rows, "
            "so LabCal refuses to judge rather than interpolate"
        )

    def arrays(self) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """The table as sorted float arrays (nominal, systematic, random) for batch look-ups."""
        return (
            np.asarray(self.nominal_ul, dtype=np.float64),
            np.asarray(self.systematic_ul, dtype=np.float64),
            np.asarray(self.random_ul, dtype=np.float64),
        )


@cache
def _raw() -> dict[str, Any]:
    text = resources.files("labcal_shared").joinpath("data", _DATA_FILE).read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def available_editions() -> tuple[str, ...]:
    """Editions whose MPE tables are shipped, sorted."""
    return tuple(sorted(_raw()["editions"]))


def load_mpe_table(edition: str, kind: PipetteKind = "air_displacement") -> MpeTable:
    """The shipped table for ``edition`` and pipette ``kind``; refuses what is not shipped."""
    editions = _raw()["editions"]
    if edition not in editions:
        raise UnknownEditionError(
            f"no MPE table is shipped for edition {edition!r}; available editions: "
            f"{', '.join(available_editions())}. A table for another edition must come from the "
            "purchased standard; LabCal never falls back to a different edition"
        )
    entry = editions[edition]
    tables = entry["tables"]
    if kind not in tables:
        raise UnknownEditionError(
            f"edition {edition!r} has no shipped MPE table for {kind.replace('_', '-')} pipettes "
            f"(shipped: {', '.join(sorted(tables))}); positive-displacement (type D) limits were "
            "not found in any source, so LabCal refuses to judge them"
        )
    rows = sorted(tables[kind], key=lambda r: float(r["nominal_ul"]))
    return MpeTable(
        edition=edition,
        kind=kind,
        nominal_ul=tuple(float(r["nominal_ul"]) for r in rows),
        systematic_ul=tuple(float(r["systematic_ul"]) for r in rows),
        random_ul=tuple(float(r["random_ul"]) for r in rows),
        multichannel_factor=float(entry["multichannel_factor"]),
        source=str(entry["source"]),
    )


def mpe_for(
    nominal_volume_ul: float,
    channels: int = 1,
    kind: PipetteKind = "air_displacement",
    edition: str = DEFAULT_EDITION,
    test_volume_ul: float | None = None,
) -> Mpe:
    """Limits at ``test_volume_ul`` of a pipette of this nominal volume. The shipped 2002 table
    gives the nominal volume's µL limits at *every* selected volume, so the test volume only
    has to lie in (0, nominal]; tables that differ by test volume (2022, a manufacturer's, a
    process tolerance) are :class:`labcal_shared.iso8655.tolerance.ToleranceTable`."""
    if channels < 1:
        raise MeasurementInputError(f"channels must be at least 1, got {channels}")
    if test_volume_ul is not None and not 0 < test_volume_ul <= nominal_volume_ul:
        raise MeasurementInputError(
            f"test volume {test_volume_ul:g} µL is not within (0, {nominal_volume_ul:g}] µL"
        )
    table = load_mpe_table(edition, kind)
    i = table.row_index(nominal_volume_ul)
    factor = table.multichannel_factor if channels > 1 else 1.0
    return Mpe(table.systematic_ul[i] * factor, table.random_ul[i] * factor)


def mpe_arrays(
    nominal_volume_ul: ArrayLike,
    channels: ArrayLike,
    kind: PipetteKind = "air_displacement",
    edition: str = DEFAULT_EDITION,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Vectorised :func:`mpe_for`: (systematic, random) arrays broadcast over the inputs."""
    table = load_mpe_table(edition, kind)
    nominal_rows, sys_rows, rand_rows = table.arrays()
    nominal = np.asarray(nominal_volume_ul, dtype=np.float64)
    ch = np.asarray(channels)
    if (ch < 1).any():
        raise MeasurementInputError(f"channels must be at least 1, got {int(ch[ch < 1].flat[0])}")
    idx = np.clip(np.searchsorted(nominal_rows, nominal), 0, len(nominal_rows) - 1)
    found = nominal_rows[idx] == nominal
    if not found.all():
        table.row_index(float(nominal[~found].flat[0]))  # raises with the row list
    factor = np.where(ch > 1, table.multichannel_factor, 1.0)
    return sys_rows[idx] * factor, rand_rows[idx] * factor
