"""Export a simulated fleet as JSON (one document) or CSV (one file per table)."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any

from labcal_sim.fleet.model import (
    FleetEvent,
    FleetPipette,
    FleetResult,
    OutOfTolerance,
    UsageDay,
)

__all__ = ["TABLES", "fleet_document", "to_json", "write_csv"]

TABLES = ("pipettes", "usage", "events", "truth")
_ROW_TYPES: dict[str, type[Any]] = {
    "pipettes": FleetPipette,
    "usage": UsageDay,
    "events": FleetEvent,
    "truth": OutOfTolerance,
}


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _rows(items: list[Any]) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in dataclasses.asdict(item).items()} for item in items]


def fleet_document(result: FleetResult) -> dict[str, Any]:
    spec = {k: _plain(v) for k, v in dataclasses.asdict(result.spec).items()}
    return {
        "format": "labcal.sim.fleet/1",
        "seed": result.seed,
        "spec": spec,
        **{name: _rows(getattr(result, name)) for name in TABLES},
    }


def to_json(result: FleetResult) -> str:
    return json.dumps(fleet_document(result), indent=None, separators=(",", ":"))


def write_csv(result: FleetResult, directory: Path) -> list[Path]:
    """``pipettes.csv``, ``usage.csv``, ``events.csv``, ``truth.csv`` in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name in TABLES:
        items = getattr(result, name)
        columns = [f.name for f in dataclasses.fields(_ROW_TYPES[name])]
        path = directory / f"{name}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            for row in _rows(items):
                writer.writerow({k: "" if v is None else v for k, v in row.items()})
        written.append(path)
    return written
