"""``labcal-cloud engine records|due|forecast``: one pass of each engine stage, on SQLite or
PostgreSQL (the configured database URL); ``engine service-policy`` (``policy_commands.py``)
stores a tenant's choice on the policy curve, which ``engine forecast`` reads;
``engine decision-rule`` and ``engine tolerance-table`` (``judgement_commands.py``) say how
calibrations are judged.

The engine publishes domain events and knows no webhook, scheduler or portal code, so the
publisher's adapter is handed in by the composition root: ``register(subparsers,
publisher_factory=...)`` with a callable ``Database -> EventPublisher`` writing through that
database (the unit of work: a record and its event commit together), e.g. the scheduler's
webhook outbox. Without one, the commands refuse to run rather than drop events.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from labcal_cloud.db.gateway import Database, connect
from labcal_cloud.engine.due import DuePolicy
from labcal_cloud.engine.errors import PolicyError
from labcal_cloud.engine.events import EventPublisher
from labcal_cloud.engine.judgement_commands import (
    register_decision_rules,
    register_tolerance_tables,
)
from labcal_cloud.engine.policy_commands import register_service_policy
from labcal_cloud.engine.service import process_runs, refresh_due_states, refresh_forecasts
from labcal_cloud.engine.store_policy_sql import SqlServicePolicyStore
from labcal_cloud.engine.store_sql import SqlEngineRepository, SqlForecastStore
from labcal_cloud.settings import Settings

__all__ = ["PublisherFactory", "due_states", "forecasts", "records", "register"]

PublisherFactory = Callable[[Database], EventPublisher]


def register(subparsers: Any, publisher_factory: PublisherFactory | None = None) -> None:
    p: argparse.ArgumentParser = subparsers.add_parser(
        "engine", help="calibration records from runs; due states; maintenance forecasts"
    )
    p.set_defaults(publisher_factory=publisher_factory)
    sub = p.add_subparsers(dest="engine_command", required=True, metavar="ACTION")
    rec = sub.add_parser("records", help="evaluate stored runs into calibration records")
    rec.set_defaults(handler=records)
    due = sub.add_parser(
        "due",
        help="recompute every registered device's and pipette's due state; log the changes",
        description="The registry's interval and cycle limit of a device win over"
        " --interval-days / --cycle-limit, which serve devices the registry does not know.",
    )
    due.add_argument("--interval-days", type=float, default=365.0)
    due.add_argument("--cycle-limit", type=int, default=None)
    due.add_argument("--due-soon-days", type=float, default=30.0)
    due.add_argument("--grace-days", type=float, default=14.0)
    due.set_defaults(handler=due_states)
    fc = sub.add_parser(
        "forecast",
        help="forecast maintenance; publish alerts",
        description="A tenant with a service policy (engine service-policy) gets the"
        " forecaster settings of its choice; --guard and --lead-days serve the others.",
    )
    fc.add_argument("--guard", type=float, default=0.8, help="share of MPE (default 0.8)")
    fc.add_argument("--lead-days", type=float, default=30.0)
    fc.set_defaults(handler=forecasts)
    register_decision_rules(sub)
    register_tolerance_tables(sub)
    register_service_policy(sub)


def _now() -> datetime:
    return datetime.now(UTC)


def _open(
    args: argparse.Namespace, settings: Settings, name: str
) -> tuple[Database, EventPublisher] | None:
    factory: PublisherFactory | None = getattr(args, "publisher_factory", None)
    if factory is None:
        print(f"engine {name}: no event publisher is wired into this command")
        return None
    try:
        db = connect(settings.database_url)
    except ValueError as exc:
        print(f"engine {name}: {exc}")
        return None
    return db, factory(db)


def records(args: argparse.Namespace, settings: Settings) -> int:
    opened = _open(args, settings, "records")
    if opened is None:
        return 2
    db, publisher = opened
    try:
        result = process_runs(SqlEngineRepository(db), publisher, now=_now)
    finally:
        db.close()
    print(f"engine records: {result.recorded} recorded, {result.rejected} rejected")
    return 0


def due_states(args: argparse.Namespace, settings: Settings) -> int:
    try:
        policy = DuePolicy(
            interval_days=args.interval_days,
            cycle_limit=args.cycle_limit,
            due_soon_days=args.due_soon_days,
            grace_days=args.grace_days,
        )
    except PolicyError as exc:
        print(f"engine due: {exc}")
        return 2
    opened = _open(args, settings, "due")
    if opened is None:
        return 2
    db, publisher = opened
    try:
        changes = refresh_due_states(SqlEngineRepository(db), publisher, policy, now=_now())
    finally:
        db.close()
    print(f"engine due: {changes} due-state changes")
    return 0


def forecasts(args: argparse.Namespace, settings: Settings) -> int:
    opened = _open(args, settings, "forecast")
    if opened is None:
        return 2
    db, publisher = opened
    try:
        raised = refresh_forecasts(
            SqlEngineRepository(db),
            SqlForecastStore(db),
            publisher,
            now=_now(),
            guard=args.guard,
            lead_days=args.lead_days,
            policies=SqlServicePolicyStore(db),
        )
    finally:
        db.close()
    print(f"engine forecast: {raised} maintenance alerts raised")
    return 0
