"""Decision rules per tenant and per device, stored on SQLite and PostgreSQL, judging the runs
the engine records: the same run is conforming under simple acceptance and not conforming under
guarded acceptance when its systematic error sits inside the guard band."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from labcal_cloud.db.gateway import Database, connect
from labcal_cloud.engine.decision_rules import SqlDecisionRules
from labcal_cloud.engine.record_codec import record_from_json
from labcal_cloud.engine.service import process_runs
from labcal_cloud.engine.store_sql import SqlEngineRepository
from labcal_shared.contracts import DeviceRef, DeviceType
from labcal_shared.iso8655 import DecisionRule, Verdict

from .runs import make_run
from .test_engine_service import SqlPublisher, ingest

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def db(store_url: str) -> Iterator[Database]:
    database = connect(store_url)
    yield database
    database.close()


def test_device_rule_over_tenant_rule_over_the_default(db: Database) -> None:
    rules = SqlDecisionRules(db)
    assert rules.rule_for("t1", "P-1") is DecisionRule.SIMPLE  # nothing stored
    rules.set("t1", DecisionRule.GUARDED, T0)
    assert rules.rule_for("t1", "P-1") is DecisionRule.GUARDED
    assert rules.rule_for("t2", "P-1") is DecisionRule.SIMPLE  # another tenant
    rules.set("t1", DecisionRule.SIMPLE, T0 + timedelta(hours=1), device_serial="P-1")
    assert rules.rule_for("t1", "P-1") is DecisionRule.SIMPLE
    assert rules.rule_for("t1", "P-2") is DecisionRule.GUARDED
    rules.set("t1", DecisionRule.GUARDED, T0 + timedelta(hours=2), device_serial="P-1")  # upsert
    assert [(s.device_serial, s.rule) for s in rules.settings("t1")] == [
        ("", DecisionRule.GUARDED),
        ("P-1", DecisionRule.GUARDED),
    ]
    rules.clear("t1", device_serial="P-1")
    rules.clear("t1")
    assert rules.settings("t1") == []


def _serial(serial: str) -> DeviceRef:
    return DeviceRef(type=DeviceType.PIPETTE, make="Acme", model="P100", serial=serial)


def test_the_engine_judges_each_run_by_its_devices_rule(store_url: str, db: Database) -> None:
    SqlDecisionRules(db).set("t1", DecisionRule.GUARDED, T0, device_serial="P-G")
    for serial in ("P-S", "P-G"):
        run = make_run(T0, bias_ul=0.78).model_copy(update={"pipette": _serial(serial)})
        ingest(store_url, [(T0, run)], device=_serial(serial))
    assert process_runs(SqlEngineRepository(db), SqlPublisher(db), now=lambda: T0).recorded == 2
    rows = db.query(
        "SELECT pipette_serial, verdict, decision_rule, record_json FROM calibration_record"
        " ORDER BY pipette_serial"
    )
    by_serial = {r[0]: r for r in rows}
    guarded = record_from_json(_decoded(by_serial["P-G"][3]))
    simple = record_from_json(_decoded(by_serial["P-S"][3]))
    worst = max(guarded.volumes, key=lambda v: abs(v.systematic_error_ul))
    # the error is inside the MPE but |e| + U is not: only the guard band separates them
    assert abs(worst.systematic_error_ul) <= worst.mpe_systematic_ul
    assert abs(worst.systematic_error_ul) + worst.expanded_uncertainty_ul > worst.mpe_systematic_ul
    assert by_serial["P-S"][1:3] == (Verdict.CONFORMING.value, DecisionRule.SIMPLE.value)
    assert by_serial["P-G"][1:3] == (Verdict.NOT_CONFORMING.value, DecisionRule.GUARDED.value)
    assert simple.verdict is Verdict.CONFORMING
    assert guarded.verdict is Verdict.NOT_CONFORMING
    assert guarded.decision_rule is DecisionRule.GUARDED
    assert worst.guard_band_ul == worst.expanded_uncertainty_ul
    assert any("guard band" in reason for reason in guarded.verdict_reasons)


def _decoded(value: object) -> dict[str, Any]:
    """A JSON column: PostgreSQL's JSONB arrives decoded, SQLite's text does not."""
    data = value if isinstance(value, dict) else json.loads(str(value))
    assert isinstance(data, dict)
    return data


def test_the_cli_sets_shows_and_clears_rules(
    store_url: str, db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    from labcal_cloud.settings import Settings

    from .test_engine_commands import _parser

    def run(*argv: str) -> int:
        args = _parser(None).parse_args(["engine", "decision-rule", *argv])
        code: int = args.handler(args, Settings(database_url=store_url))
        return code

    assert run("set", "t1", "guarded") == 0
    assert run("set", "t1", "simple_acceptance", "--device", "P-1") == 0
    assert SqlDecisionRules(db).rule_for("t1", "P-2") is DecisionRule.GUARDED
    assert SqlDecisionRules(db).rule_for("t1", "P-1") is DecisionRule.SIMPLE
    capsys.readouterr()
    assert run("show", "t1") == 0
    assert capsys.readouterr().out.splitlines() == [
        "t1 (default): guarded_acceptance",
        "t1 P-1: simple_acceptance",
    ]
    assert run("set", "t1", "shared-risk") == 2
    assert "unknown decision rule 'shared-risk'" in capsys.readouterr().out
    assert run("clear", "t1") == 0
    assert SqlDecisionRules(db).rule_for("t1", "P-2") is DecisionRule.SIMPLE
