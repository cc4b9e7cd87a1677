"""``labcal-cloud engine decision-rule set|show|clear``: the rule that judges a tenant's (or one
device's) calibrations, on the configured database (SQLite or PostgreSQL).

The same store the portal's ``PUT /api/v1/decision-rules`` writes; a device is named by its
serial, as the engine keys devices.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from labcal_cloud.db.gateway import connect
from labcal_cloud.engine.decision_rules import SqlDecisionRules
from labcal_cloud.settings import Settings
from labcal_shared.errors import MeasurementInputError
from labcal_shared.iso8655.verdict import DECISION_RULE_DESCRIPTIONS, decision_rule

__all__ = ["register_decision_rules"]


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
