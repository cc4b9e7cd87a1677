"""Tolerance tables on SQLite and PostgreSQL through ``labcal-cloud engine tolerance-table``:
a file is validated and loaded once per (name, version); a table assigned to a tenant judges its
new runs, and a stored run's verdict changes only through a correction record (the old one is
kept)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from labcal_cloud.db.gateway import Database, connect
from labcal_cloud.engine.record_codec import record_from_json
from labcal_cloud.engine.records import current_records
from labcal_cloud.engine.service import process_runs
from labcal_cloud.engine.store_sql import SqlEngineRepository
from labcal_cloud.settings import Settings
from labcal_shared.iso8655 import Verdict

from .runs import make_run
from .test_engine_commands import _parser
from .test_engine_service import SqlPublisher, ingest

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "docs/examples/tolerance_table_process.json"
LABEL = "Acme Lab assay tolerance P100 (2026-01)"
T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def db(store_url: str) -> Iterator[Database]:
    database = connect(store_url)
    yield database
    database.close()


def _cli(url: str, *argv: str) -> int:
    args = _parser(SqlPublisher).parse_args(["engine", "tolerance-table", *argv])
    code: int = args.handler(args, Settings(database_url=url))
    return code


def _decoded(value: object) -> dict[str, Any]:
    data = value if isinstance(value, dict) else json.loads(str(value))
    assert isinstance(data, dict)
    return data


def test_load_validates_and_refuses_a_changed_table_under_the_same_version(
    store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _cli(store_url, "load", str(EXAMPLE)) == 0
    assert f"{LABEL} loaded: 4 rows, process" in capsys.readouterr().out
    assert _cli(store_url, "load", str(EXAMPLE)) == 0
    assert "already loaded (same content)" in capsys.readouterr().out
    changed = json.loads(EXAMPLE.read_text())
    changed["rows"][0]["systematic_ul"] = 0.6
    path = tmp_path / "changed.json"
    path.write_text(json.dumps(changed))
    assert _cli(store_url, "load", str(path)) == 2
    assert "already loaded with other content; a changed table needs a new version" in (
        capsys.readouterr().out
    )
    changed["rows"][0]["type"] = "X"
    path.write_text(json.dumps(changed))
    assert _cli(store_url, "load", str(path)) == 2
    assert "row 1: 'type' must be 'A' or 'D', got 'X'" in capsys.readouterr().out
    path.write_text("{not json")
    assert _cli(store_url, "load", str(path)) == 2
    assert "changed.json: Expecting property name" in capsys.readouterr().out
    assert _cli(store_url, "assign", "t1", "no such table", "1") == 2
    assert "no tolerance table no such table (1) is loaded" in capsys.readouterr().out
    assert _cli(store_url, "list") == 0
    assert f"{LABEL} process, loaded" in capsys.readouterr().out


def test_a_loaded_table_changes_a_stored_verdict_only_through_a_new_record(
    store_url: str, db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    # +0.4 µL at every volume: within the 2002 limit (0.8 µL), outside the table's 0.25 µL at 10 µL
    ingest(store_url, [(T0, make_run(T0, bias_ul=0.4))])
    repo = SqlEngineRepository(db)
    assert process_runs(repo, SqlPublisher(db), now=lambda: T0).recorded == 1
    [(first_id, first_json)] = db.query("SELECT record_id, record_json FROM calibration_record")
    first = record_from_json(_decoded(first_json))
    assert (first.verdict, first.tolerance_table) == (
        Verdict.CONFORMING,
        "ISO 8655-2:2002 (built in)",
    )

    assert _cli(store_url, "load", str(EXAMPLE)) == 0
    assert _cli(store_url, "assign", "t1", "Acme Lab assay tolerance P100", "2026-01") == 0
    # loading and assigning changed no stored record
    assert db.query("SELECT verdict, tolerance_table FROM calibration_record") == [
        ("conforming", "ISO 8655-2:2002 (built in)")
    ]
    capsys.readouterr()
    assert _cli(store_url, "rejudge", str(first_id), "--reason", "customer tolerance") == 0
    out = capsys.readouterr().out
    assert f"supersedes {first.record_id}: conforming by ISO 8655-2:2002 (built in)" in out
    assert f"-> not_conforming by {LABEL}" in out
    rows = db.query(
        "SELECT verdict, tolerance_table, record_json FROM calibration_record ORDER BY recorded_at"
    )
    assert [(r[0], r[1]) for r in rows] == [
        ("conforming", "ISO 8655-2:2002 (built in)"),  # the old record is kept
        ("not_conforming", LABEL),
    ]
    records = [record_from_json(_decoded(r[2])) for r in rows]
    [live] = current_records(records)
    assert live.supersedes == first.record_id
    assert live.correction_reason == "customer tolerance"
    assert any("10 µL" in r and "0.25 µL" in r for r in live.verdict_reasons)
    assert "CalibrationRecorded" in SqlPublisher(db).kinds()

    # a new run of the tenant is judged by the assigned table
    later = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
    ingest(store_url, [(later, make_run(later))])
    assert process_runs(repo, SqlPublisher(db), now=lambda: later).recorded == 1
    row = db.one(
        "SELECT verdict, tolerance_table FROM calibration_record WHERE ended_at = ?",
        (db.at(later),),
    )
    assert row == ("conforming", LABEL)


def test_an_edition_without_a_table_is_refused_until_one_is_loaded(
    store_url: str, db: Database, tmp_path: Path
) -> None:
    ingest(store_url, [(T0, make_run(T0, edition="ISO 8655-2:2022"))])
    repo = SqlEngineRepository(db)
    assert process_runs(repo, SqlPublisher(db), now=lambda: T0).rejected == 1
    [(reason,)] = db.query("SELECT reason FROM calibration_run_rejection")
    assert "no MPE table is shipped for edition 'ISO 8655-2:2022'" in reason
    table = json.loads(EXAMPLE.read_text())
    table.update(
        name="ISO 8655-2:2022",
        version="lab copy 1",
        kind="standard",
        source="a lab's licensed copy (test data: not the standard's numbers)",
    )
    path = tmp_path / "iso2022.json"
    path.write_text(json.dumps(table))
    assert _cli(store_url, "load", str(path)) == 0
    later = datetime(2026, 6, 2, 9, 0, tzinfo=UTC)
    ingest(store_url, [(later, make_run(later, edition="ISO 8655-2:2022"))])
    assert process_runs(repo, SqlPublisher(db), now=lambda: later).recorded == 1
    assert db.query("SELECT tolerance_table FROM calibration_record") == [
        ("ISO 8655-2:2022 (lab copy 1)",)
    ]
