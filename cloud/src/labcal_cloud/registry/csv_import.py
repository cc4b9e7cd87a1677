"""Parse a bulk device CSV (serial, make, model, nominal volume, site) with errors per row."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

__all__ = ["CsvRow", "RowError", "parse_device_csv"]

REQUIRED = ("serial", "make", "model")
MAX_ROWS = 10_000


@dataclass(frozen=True)
class CsvRow:
    line: int
    serial: str
    make: str
    model: str
    nominal_volume_ul: float
    site: str


@dataclass(frozen=True)
class RowError:
    line: int
    message: str


def parse_device_csv(text: str) -> tuple[list[CsvRow], list[RowError]]:
    """Valid rows and one error per bad row; the header line is line 1."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        return [], [RowError(1, f"header lacks column(s): {', '.join(missing)}")]
    reader.fieldnames = header
    rows: list[CsvRow] = []
    errors: list[RowError] = []
    seen: dict[tuple[str, str, str], int] = {}
    for index, raw in enumerate(reader, start=2):
        if index - 1 > MAX_ROWS:
            errors.append(RowError(index, f"more than {MAX_ROWS} rows; split the file"))
            break
        values = {k: (v or "").strip() for k, v in raw.items() if isinstance(k, str)}
        empty = [c for c in REQUIRED if not values.get(c)]
        if empty:
            errors.append(RowError(index, f"empty {', '.join(empty)}"))
            continue
        volume_text = values.get("nominal_volume_ul", "") or "0"
        try:
            volume = float(volume_text)
        except ValueError:
            errors.append(RowError(index, f"nominal_volume_ul {volume_text!r} is not a number"))
            continue
        if not 0 <= volume <= 100_000 or volume != volume:
            errors.append(RowError(index, f"nominal_volume_ul {volume_text} is out of range"))
            continue
        key = (values["make"], values["model"], values["serial"])
        if key in seen:
            errors.append(RowError(index, f"duplicate of line {seen[key]}"))
            continue
        seen[key] = index
        rows.append(
            CsvRow(
                index,
                values["serial"],
                values["make"],
                values["model"],
                volume,
                values.get("site", ""),
            )
        )
    return rows, errors
