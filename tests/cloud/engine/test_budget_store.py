"""The GUM budget is stored with the record, on SQLite and PostgreSQL: one row per series and
component, the totals per series, the same numbers as the record's JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from labcal_cloud.db.gateway import Database, connect
from labcal_cloud.engine.record_codec import record_from_json
from labcal_cloud.engine.service import process_runs
from labcal_cloud.engine.store_sql import SqlEngineRepository

from .runs import make_run
from .test_engine_service import SqlPublisher, ingest

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def db(store_url: str) -> Iterator[Database]:
    database = connect(store_url)
    yield database
    database.close()


def test_the_budget_rows_are_the_records_budget(store_url: str, db: Database) -> None:
    ingest(store_url, [(T0, make_run(T0))])
    assert process_runs(SqlEngineRepository(db), SqlPublisher(db), now=lambda: T0).recorded == 1
    [(data,)] = db.query("SELECT record_json FROM calibration_record")
    record = record_from_json(data if isinstance(data, dict) else json.loads(str(data)))
    lines = db.query(
        "SELECT series, volume_ul, channel, component, standard_uncertainty_ul,"
        " degrees_of_freedom FROM calibration_uncertainty ORDER BY series, component"
    )
    expected = sorted(
        (i, v.volume_ul, v.channel, b.name, b.standard_uncertainty_ul, b.degrees_of_freedom)
        for i, v in enumerate(record.volumes)
        for b in v.budget
    )
    assert [tuple(r) for r in lines] == expected
    assert len(lines) == 3 * 7  # 3 test volumes × 7 components
    assert {r[5] for r in lines if r[3] == "repeatability"} == {9.0}  # n − 1
    assert {r[5] for r in lines if r[3] != "repeatability"} == {None}  # type B: ∞
    totals = db.query(
        "SELECT series, combined_ul, effective_dof, coverage_factor, coverage_probability,"
        " expanded_ul FROM calibration_uncertainty_total ORDER BY series"
    )
    assert [tuple(r) for r in totals] == [
        (
            i,
            v.combined_uncertainty_ul,
            v.effective_dof,
            v.coverage_factor,
            v.coverage_probability,
            v.expanded_uncertainty_ul,
        )
        for i, v in enumerate(record.volumes)
    ]
    assert all(k > 2.0 for _, _, _, k, _, _ in totals)  # finite ν_eff: k above 2
