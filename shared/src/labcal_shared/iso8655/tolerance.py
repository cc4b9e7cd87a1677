"""Tolerance tables as versioned data: ISO 8655-2:2022 from a provider's own licensed copy, a
manufacturer's specification or a customer's process tolerance (the file format:
docs/tolerance-tables.md).

A table has a name and a version (the pair identifies it for ever: a record keeps the label of
the table it was judged by), a kind, a source, and rows keyed by pipette type (``A``: air
displacement, ``D``: positive displacement), channels (``single``/``multi``), nominal volume and
test volume, each with a systematic and a random limit — in µL or in % of the test volume.
A row without a test volume applies at every test volume of that nominal volume (the 2002 rule).
Nothing is interpolated: a nominal or test volume without a row is refused, naming the rows.

The built-in ISO 8655-2:2002 table (:mod:`labcal_shared.iso8655.mpe`) is offered through the same
interface (:func:`builtin_table`); LabCal ships no other limits.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from labcal_shared.errors import Iso8655Error, MeasurementInputError
from labcal_shared.iso8655.inputs import PipetteKind
from labcal_shared.iso8655.mpe import Mpe, load_mpe_table

__all__ = [
    "FORMAT",
    "ToleranceRow",
    "ToleranceTable",
    "ToleranceTableError",
    "builtin_table",
    "parse_tolerance_table",
]

FORMAT: Final = "labcal-tolerance-table/1"
TableKind = Literal["standard", "manufacturer", "process"]
_KINDS: Final = ("standard", "manufacturer", "process")
_TYPES: Final[dict[str, PipetteKind]] = {"A": "air_displacement", "D": "positive_displacement"}
_REL_TOL: Final = 1e-9


class ToleranceTableError(Iso8655Error):
    """A tolerance table file that cannot be loaded; the message says where and why."""


@dataclass(frozen=True, slots=True)
class ToleranceRow:
    pipette_type: Literal["A", "D"]
    channels: Literal["single", "multi"]
    nominal_ul: float
    test_volume_ul: float | None  # None: every test volume
    systematic_ul: float
    random_ul: float


@dataclass(frozen=True, slots=True)
class ToleranceTable:
    name: str
    version: str
    kind: TableKind
    source: str
    rows: tuple[ToleranceRow, ...]

    @property
    def label(self) -> str:
        """What a record and a certificate name: ``ISO 8655-2:2022 (lab copy 2024-03)``."""
        return f"{self.name} ({self.version})"

    def limits(
        self,
        nominal_ul: float,
        test_volume_ul: float,
        channels: int = 1,
        kind: PipetteKind = "air_displacement",
    ) -> Mpe:
        """The limits at one test volume; refuses what the table has no row for."""
        if channels < 1:
            raise MeasurementInputError(f"channels must be at least 1, got {channels}")
        ptype = "A" if kind == "air_displacement" else "D"
        cls = "single" if channels == 1 else "multi"
        rows = [r for r in self.rows if (r.pipette_type, r.channels) == (ptype, cls)]
        if not rows:
            raise MeasurementInputError(
                f"tolerance table {self.label} has no rows for type {ptype} {cls}-channel "
                "pipettes; LabCal refuses to judge rather than borrow other limits"
            )
        nominal_rows = [r for r in rows if _same(r.nominal_ul, nominal_ul)]
        if not nominal_rows:
            known = ", ".join(sorted({f"{r.nominal_ul:g}" for r in rows}, key=float))
            raise MeasurementInputError(
                f"nominal volume {nominal_ul:g} µL is not in tolerance table {self.label} "
                f"(type {ptype} {cls}-channel rows: {known} µL); nothing is interpolated"
            )
        for r in nominal_rows:
            if r.test_volume_ul is not None and _same(r.test_volume_ul, test_volume_ul):
                return Mpe(r.systematic_ul, r.random_ul)
        for r in nominal_rows:
            if r.test_volume_ul is None:
                return Mpe(r.systematic_ul, r.random_ul)
        tested = ", ".join(f"{r.test_volume_ul:g}" for r in nominal_rows)
        raise MeasurementInputError(
            f"tolerance table {self.label} has no limits at {test_volume_ul:g} µL for a "
            f"{nominal_ul:g} µL pipette (test volumes in the table: {tested} µL); nothing is "
            "interpolated"
        )


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= _REL_TOL * max(abs(a), abs(b))


def builtin_table(edition: str) -> ToleranceTable:
    """The shipped table of ``edition`` (only ISO 8655-2:2002), multichannel rows = factor × the
    single-channel ones, every row valid at every test volume."""
    rows: list[ToleranceRow] = []
    for ptype, kind in _TYPES.items():
        try:
            table = load_mpe_table(edition, kind)
        except Iso8655Error:
            continue
        for i, nominal in enumerate(table.nominal_ul):
            for cls, factor in (("single", 1.0), ("multi", table.multichannel_factor)):
                rows.append(
                    ToleranceRow(
                        ptype,  # type: ignore[arg-type]
                        cls,  # type: ignore[arg-type]
                        nominal,
                        None,
                        table.systematic_ul[i] * factor,
                        table.random_ul[i] * factor,
                    )
                )
    if not rows:
        load_mpe_table(edition)  # raises UnknownEditionError naming what is shipped
    return ToleranceTable(edition, "built in", "standard", "shipped with LabCal", tuple(rows))


def _fail(where: str, message: str) -> ToleranceTableError:
    return ToleranceTableError(f"{where}: {message}")


def _text(data: Mapping[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _fail(where, f"'{key}' must be a non-empty text")
    return value.strip()


def _number(row: Mapping[str, Any], key: str, where: str, *, positive: bool = True) -> float:
    value = row.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(where, f"'{key}' must be a number, got {value!r}")
    v = float(value)
    if not math.isfinite(v) or (v <= 0 if positive else v < 0):
        raise _fail(where, f"'{key}' must be a {'positive' if positive else ''} number, got {v!r}")
    return v


def _limit(row: Mapping[str, Any], what: str, test_ul: float | None, where: str) -> float:
    ul, pct = f"{what}_ul", f"{what}_pct"
    if (ul in row) == (pct in row):
        raise _fail(where, f"give exactly one of '{ul}' and '{pct}'")
    if ul in row:
        return _number(row, ul, where)
    if test_ul is None:
        raise _fail(where, f"'{pct}' (a share of the test volume) needs 'test_volume_ul'")
    return _number(row, pct, where) * test_ul / 100.0


_ROW_KEYS: Final = {
    "type",
    "channels",
    "nominal_ul",
    "test_volume_ul",
    "systematic_ul",
    "systematic_pct",
    "random_ul",
    "random_pct",
}


def _row(raw: Any, where: str) -> ToleranceRow:
    if not isinstance(raw, Mapping):
        raise _fail(where, "a row must be an object")
    unknown = sorted(set(raw) - _ROW_KEYS)
    if unknown:
        raise _fail(where, f"unknown field(s) {', '.join(unknown)}")
    ptype = raw.get("type")
    if ptype not in _TYPES:
        raise _fail(where, f"'type' must be 'A' or 'D', got {ptype!r}")
    channels = raw.get("channels")
    if channels not in ("single", "multi"):
        raise _fail(where, f"'channels' must be 'single' or 'multi', got {channels!r}")
    nominal = _number(raw, "nominal_ul", where)
    test = None if raw.get("test_volume_ul") is None else _number(raw, "test_volume_ul", where)
    if test is not None and test > nominal * (1 + _REL_TOL):
        raise _fail(where, f"test volume {test:g} µL exceeds the nominal volume {nominal:g} µL")
    return ToleranceRow(
        ptype,
        channels,
        nominal,
        test,
        _limit(raw, "systematic", test, where),
        _limit(raw, "random", test, where),
    )


def parse_tolerance_table(data: Any) -> ToleranceTable:
    """A table from its decoded JSON; any problem raises :class:`ToleranceTableError` saying
    where (``row 3``) and what is wrong."""
    if not isinstance(data, Mapping):
        raise ToleranceTableError("a tolerance table file must hold one JSON object")
    if data.get("format") != FORMAT:
        raise ToleranceTableError(f"'format' must be {FORMAT!r}, got {data.get('format')!r}")
    name = _text(data, "name", "table")
    version = _text(data, "version", "table")
    source = _text(data, "source", "table")
    kind = data.get("kind")
    if kind not in _KINDS:
        raise ToleranceTableError(f"table: 'kind' must be one of {', '.join(_KINDS)}, got {kind!r}")
    raw_rows = data.get("rows")
    if not isinstance(raw_rows, list) or not raw_rows:
        raise ToleranceTableError("table: 'rows' must be a non-empty list")
    rows = tuple(_row(r, f"row {i}") for i, r in enumerate(raw_rows, start=1))
    seen: dict[tuple[str, str, float, float | None], int] = {}
    for i, r in enumerate(rows, start=1):
        key = (r.pipette_type, r.channels, r.nominal_ul, r.test_volume_ul)
        if key in seen:
            raise _fail(f"row {i}", f"repeats row {seen[key]} (same type, channels and volumes)")
        seen[key] = i
    return ToleranceTable(name, version, kind, source, rows)
