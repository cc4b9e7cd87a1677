"""``labcal-iso8655``: evaluate a run file, print Z and MPE, clear errors with exit status 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labcal_shared.contracts import encode
from labcal_shared.iso8655_cli import main

from .contracts.factories import envelope, run_payload

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "gravimetric_run.json"


def test_example_run_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "Z = 1.002854 µL/mg" in out
    assert "result   PASS" in out


def test_failing_run_exits_1_and_json_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = run_payload()
    tv = run.test_volumes[0].model_copy(update={"masses_mg": [985.0] * 10})  # -1.5 %: beyond 8 µL
    path = tmp_path / "run.json"
    path.write_bytes(encode(envelope(run.model_copy(update={"test_volumes": [tv]}))))
    assert main(["evaluate", str(path), "--json"]) == 1
    result = json.loads(capsys.readouterr().out)
    assert result["passed"] is False
    assert result["volumes"][0]["systematic_error_ul"] < -8.0


def test_bare_payload_file_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "payload.json"
    path.write_text(run_payload().model_dump_json(), encoding="utf-8")
    assert main(["evaluate", str(path)]) == 0


@pytest.mark.parametrize(
    ("content", "text"),
    [
        ("{", "cannot read"),
        ('{"payload": {"type": "reading"}}', "invalid message"),
        ('{"run_id": 3}', "invalid message"),
    ],
)
def test_bad_files_exit_2_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, text: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    assert main(["evaluate", str(path)]) == 2
    assert text in capsys.readouterr().err


def test_z_and_mpe(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["z", "--water-temp", "20", "--pressure", "101.3"]) == 0
    assert capsys.readouterr().out.strip() == "1.002854"
    assert main(["mpe", "--nominal", "100", "--channels", "8"]) == 0
    assert "systematic ±1.6 µL, random 0.6 µL" in capsys.readouterr().out
    assert main(["mpe", "--nominal", "100", "--edition", "ISO 8655-2:2022"]) == 2
    assert "no MPE table is shipped" in capsys.readouterr().err
