"""How calibrations are judged, on the configured database (SQLite or PostgreSQL):

- ``labcal-cloud engine decision-rule set|show|clear``: the rule of a tenant or one device (the
  same store the portal's ``PUT /api/v1/decision-rules`` writes);
- ``labcal-cloud engine tolerance-table load FILE | list | assign``: tolerance tables as
  versioned data (docs/tolerance-tables.md) and which one judges a tenant's or a device's runs;
- ``labcal-cloud engine tolerance-table rejudge RECORD --reason TEXT``: judge a stored run again
  under the rule and table that apply now, as a *correction* record that supersedes the old one
  (which is kept; records are immutable).

A device is named by its serial, as the engine keys devices.
"""

from __future__ import annotations

import argparse
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from labcal_cloud.db.gateway import Database, connect
from labcal_cloud.engine.decision_rules import SqlDecisionRules
from labcal_cloud.engine.errors import RecordRejectedError
from labcal_cloud.engine.events import CalibrationRecorded
from labcal_cloud.engine.record_codec import record_from_json
from labcal_cloud.engine.records import record_from_run
from labcal_cloud.engine.store_sql import SqlEngineRepository
from labcal_cloud.engine.tolerance_tables import SqlToleranceTables
from labcal_cloud.settings import Settings
from labcal_shared.contracts import GravimetricRun
from labcal_shared.errors import Iso8655Error, MeasurementInputError
from labcal_shared.iso8655.verdict import DECISION_RULE_DESCRIPTIONS, decision_rule

__all__ = ["register_decision_rules", "register_tolerance_tables"]


def register_decision_rules(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "decision-rule",
        help="the decision rule (simple or guarded acceptance) of a tenant or one device",
    )
    actions = p.add_subparsers(dest="rule_command", required=True, metavar="ACTION")
    s = actions.add_parser("set", help="set the tenant's default or one device's rule")
    s.add_argument("tenant")
    s.add_argument("rule", help="simple_acceptance | guarded_acceptance (or simple | guarded)")
    s.add_argument("--device", default="", metavar="SERIAL", help="one device only")
    s.set_defaults(handler=set_rule)
    show = actions.add_parser("show", help="list a tenant's rules")
    show.add_argument("tenant")
    show.set_defaults(handler=show_rules)
    c = actions.add_parser("clear", help="drop a device's own rule or the tenant's default")
    c.add_argument("tenant")
    c.add_argument("--device", default="", metavar="SERIAL")
    c.set_defaults(handler=clear_rule)


def set_rule(args: argparse.Namespace, settings: Settings) -> int:
    try:
        rule = decision_rule(args.rule)
    except MeasurementInputError as exc:
        print(f"engine decision-rule: {exc}")
        return 2
    db = connect(settings.database_url)
    try:
        SqlDecisionRules(db).set(args.tenant, rule, datetime.now(UTC), device_serial=args.device)
    finally:
        db.close()
    who = f"device {args.device}" if args.device else "default"
    print(f"engine decision-rule: {args.tenant} {who}: {DECISION_RULE_DESCRIPTIONS[rule]}")
    return 0


def show_rules(args: argparse.Namespace, settings: Settings) -> int:
    db = connect(settings.database_url)
    try:
        found = SqlDecisionRules(db).settings(args.tenant)
    finally:
        db.close()
    if not found:
        print(f"{args.tenant}: no rule stored; simple_acceptance applies")
    for s in found:
        print(f"{s.tenant} {s.device_serial or '(default)'}: {s.rule.value}")
    return 0


def clear_rule(args: argparse.Namespace, settings: Settings) -> int:
    db = connect(settings.database_url)
    try:
        SqlDecisionRules(db).clear(args.tenant, device_serial=args.device)
    finally:
        db.close()
    print(f"engine decision-rule: cleared {args.tenant} {args.device or '(default)'}")
    return 0


def register_tolerance_tables(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "tolerance-table", help="load tolerance tables (versioned data) and assign them"
    )
    actions = p.add_subparsers(dest="table_command", required=True, metavar="ACTION")
    load = actions.add_parser("load", help="validate and store a tolerance table file (JSON)")
    load.add_argument("file", type=Path)
    load.set_defaults(handler=load_table)
    actions.add_parser("list", help="the loaded tables").set_defaults(handler=list_tables)
    a = actions.add_parser("assign", help="judge a tenant's (or one device's) runs by a table")
    a.add_argument("tenant")
    a.add_argument("name")
    a.add_argument("version")
    a.add_argument("--device", default="", metavar="SERIAL")
    a.set_defaults(handler=assign_table)
    r = actions.add_parser(
        "rejudge", help="judge a stored run again as a correction record (the old one is kept)"
    )
    r.add_argument("record_id")
    r.add_argument("--reason", required=True)
    r.set_defaults(handler=rejudge)


def load_table(args: argparse.Namespace, settings: Settings) -> int:
    try:
        data = json.loads(args.file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        print(f"engine tolerance-table load: {args.file}: {exc}")
        return 2
    db = connect(settings.database_url)
    try:
        result = SqlToleranceTables(db).load(data, datetime.now(UTC))
    except (Iso8655Error, RecordRejectedError) as exc:
        print(f"engine tolerance-table load: {args.file}: {exc}")
        return 2
    finally:
        db.close()
    t = result.table
    state = "loaded" if result.new else "already loaded (same content)"
    print(f"engine tolerance-table: {t.label} {state}: {len(t.rows)} rows, {t.kind}, {t.source}")
    return 0


def list_tables(args: argparse.Namespace, settings: Settings) -> int:
    db = connect(settings.database_url)
    try:
        tables = SqlToleranceTables(db).tables()
    finally:
        db.close()
    if not tables:
        print("no tolerance table loaded; the built-in ISO 8655-2:2002 table applies")
    for name, version, kind, at in tables:
        print(f"{name} ({version}) {kind}, loaded {at.isoformat()}")
    return 0


def assign_table(args: argparse.Namespace, settings: Settings) -> int:
    db = connect(settings.database_url)
    try:
        table = SqlToleranceTables(db).assign(
            args.tenant, args.name, args.version, datetime.now(UTC), device_serial=args.device
        )
    except RecordRejectedError as exc:
        print(f"engine tolerance-table assign: {exc}")
        return 2
    finally:
        db.close()
    who = f"device {args.device}" if args.device else "default"
    print(f"engine tolerance-table: {args.tenant} {who} judged by {table.label}")
    return 0


def _decoded(value: object) -> dict[str, Any]:
    """A JSON column: PostgreSQL's JSONB arrives decoded, SQLite's text does not."""
    data = value if isinstance(value, dict) else json.loads(str(value))
    assert isinstance(data, dict)
    return data


def _rejudge(db: Database, args: argparse.Namespace, now: datetime) -> str:
    repo = SqlEngineRepository(db)
    record_id = uuid.UUID(args.record_id)
    row = db.one(
        "SELECT c.tenant, c.record_json, r.payload_json FROM calibration_record c"
        " JOIN runs r ON r.message_id = c.run_message_id WHERE c.record_id = ?",
        (record_id if db.is_postgres else str(record_id),),
    )
    if row is None:
        raise RecordRejectedError(f"no record {record_id} of a stored run")
    tenant = str(row[0])
    old = record_from_json(_decoded(row[1]))
    run = GravimetricRun.model_validate(_decoded(row[2]))
    known, until = repo.balance_valid_until(tenant, run.balance.serial)
    new = record_from_run(
        run,
        record_id=uuid.uuid4(),
        recorded_at=now,
        balance_valid_until=until,
        balance_known=known,
        supersedes=old.record_id,
        correction_reason=args.reason,
        rule=repo.decision_rule(tenant, run.pipette.serial),
        tolerance=repo.tolerance_table(tenant, run.pipette.serial, run.mpe_edition),
    )
    factory = getattr(args, "publisher_factory", None)
    with repo.transaction():
        repo.save_record(tenant, None, new)
        if factory is not None:
            factory(db).publish(CalibrationRecorded(tenant, new, now))
    return (
        f"record {new.record_id} supersedes {old.record_id}: {old.verdict.value} by "
        f"{old.tolerance_table or old.mpe_edition} -> {new.verdict.value} by {new.tolerance_table}"
    )


def rejudge(args: argparse.Namespace, settings: Settings) -> int:
    db = connect(settings.database_url)
    try:
        print(f"engine tolerance-table rejudge: {_rejudge(db, args, datetime.now(UTC))}")
    except (ValueError, RecordRejectedError) as exc:
        print(f"engine tolerance-table rejudge: {exc}")
        return 2
    finally:
        db.close()
    return 0
