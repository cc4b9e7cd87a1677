"""``labcal-contracts``: write (or check) JSON Schema files for every LabCal message.

    labcal-contracts [--out docs/contracts] [--check]

One file per message type (the envelope specialised to that payload) plus ``envelope.schema.json``
with the full payload union, so devices and vendors can validate what they send.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel, create_model

from labcal_shared.contracts import (
    DeviceEvent,
    Envelope,
    GravimetricRun,
    Reading,
    ReadingBatch,
    StationStatus,
    UsageReport,
)

__all__ = ["main", "message_schemas"]

_MESSAGES: dict[str, type[BaseModel]] = {
    "usage_report": UsageReport,
    "reading": Reading,
    "reading_batch": ReadingBatch,
    "gravimetric_run": GravimetricRun,
    "device_event": DeviceEvent,
    "station_status": StationStatus,
}


def message_schemas() -> dict[str, dict[str, Any]]:
    """File name → JSON Schema, for the envelope and for each message type."""
    schemas: dict[str, dict[str, Any]] = {"envelope.schema.json": _schema(Envelope, "Envelope")}
    for name, payload in _MESSAGES.items():
        title = "".join(part.title() for part in name.split("_")) + "Message"
        model = create_model(title, __base__=Envelope, payload=(payload, ...))
        schemas[f"{name}.schema.json"] = _schema(model, title)
    return schemas


def _schema(model: type[BaseModel], title: str) -> dict[str, Any]:
    schema = model.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://labcal.example/contracts/v1/{title}"
    schema["title"] = title
    return schema


def _render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="labcal-contracts", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/contracts"), help="target folder")
    parser.add_argument(
        "--check", action="store_true", help="only check that the files are up to date"
    )
    args = parser.parse_args(argv)
    stale = []
    for name, schema in message_schemas().items():
        path: Path = args.out / name
        text = _render(schema)
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(str(path))
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    if stale:
        print("out of date (run labcal-contracts): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
