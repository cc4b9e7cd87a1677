"""The JSON Schema files in docs/contracts are current and accept exactly the valid messages."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from labcal_shared.contracts import encode
from labcal_shared.schema_export import main, message_schemas

from .factories import envelope, payloads

DOCS = Path(__file__).resolve().parents[3] / "docs" / "contracts"


def test_committed_schema_files_are_up_to_date() -> None:
    assert main(["--out", str(DOCS), "--check"]) == 0


def test_check_reports_stale_files(tmp_path: Path) -> None:
    assert main(["--out", str(tmp_path), "--check"]) == 1
    assert main(["--out", str(tmp_path)]) == 0
    assert main(["--out", str(tmp_path), "--check"]) == 0
    (tmp_path / "reading.schema.json").write_text("{}", encoding="utf-8")
    assert main(["--out", str(tmp_path), "--check"]) == 1


@pytest.mark.parametrize(("name", "payload"), sorted(payloads().items()))
def test_examples_validate_against_their_schema(name: str, payload: object) -> None:
    message = json.loads(encode(envelope(payload)))  # type: ignore[arg-type]
    schemas = message_schemas()
    jsonschema.validate(message, schemas[f"{name}.schema.json"])
    jsonschema.validate(message, schemas["envelope.schema.json"])


def test_schema_rejects_what_the_decoder_rejects() -> None:
    message = json.loads(encode(envelope(payloads()["reading"])))
    message["payload"]["unit"] = "lb"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(message, message_schemas()["reading.schema.json"])
