"""``labcal-cloud engine records|due|forecast|plan-reminders``: the engine's composition root
(PostgreSQL)."""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime
from typing import Any

from labcal_cloud.engine.due import DuePolicy
from labcal_cloud.engine.errors import PolicyError
from labcal_cloud.engine.service import process_runs, refresh_due_states, refresh_forecasts
from labcal_cloud.engine.store_pg import (
    PostgresEngineRepository,
    PostgresForecastStore,
    WebhookPublisher,
)
from labcal_cloud.settings import Settings

__all__ = ["register"]


def register(subparsers: Any) -> None:
    p: argparse.ArgumentParser = subparsers.add_parser(
        "engine", help="calibration records from runs; due states; maintenance forecasts"
    )
    sub = p.add_subparsers(dest="engine_command", required=True, metavar="ACTION")
    rec = sub.add_parser("records", help="evaluate stored runs into calibration records")
    rec.set_defaults(handler=records)
    due = sub.add_parser("due", help="recompute every pipette's due state; log the changes")
    due.add_argument("--interval-days", type=float, default=365.0)
    due.add_argument("--cycle-limit", type=int, default=None)
    due.add_argument("--due-soon-days", type=float, default=30.0)
    due.add_argument("--grace-days", type=float, default=14.0)
    due.set_defaults(handler=due_states)
    fc = sub.add_parser("forecast", help="forecast maintenance; publish alerts")
    fc.add_argument("--guard", type=float, default=0.8, help="share of MPE (default 0.8)")
    fc.add_argument("--lead-days", type=float, default=30.0)
    fc.set_defaults(handler=forecasts)
    pr = sub.add_parser(
        "plan-reminders",
        help="plan the due reminders of portal users (their channels, time zone, quiet hours)"
        " into the scheduler's tables; idempotent",
    )
    pr.add_argument(
        "--portal-url",
        default=os.environ.get("LABCAL_BASE_URL", "http://127.0.0.1:8000"),
        help="the portal's base URL for the one-click booking links (LABCAL_BASE_URL)",
    )
    pr.set_defaults(handler=plan_reminders)


def _now() -> datetime:
    return datetime.now(UTC)


def _postgres(settings: Settings) -> str | None:
    url = settings.database_url
    return url if url.startswith(("postgresql://", "postgres://")) else None


def records(args: argparse.Namespace, settings: Settings) -> int:
    url = _postgres(settings)
    if url is None:
        print("engine records: needs PostgreSQL (--database-url postgresql://...)")
        return 2
    repo, publisher = PostgresEngineRepository(url), WebhookPublisher(url)
    try:
        result = process_runs(repo, publisher, now=_now)
    finally:
        repo.close()
        publisher.close()
    print(f"engine records: {result.recorded} recorded, {result.rejected} rejected")
    return 0


def due_states(args: argparse.Namespace, settings: Settings) -> int:
    url = _postgres(settings)
    if url is None:
        print("engine due: needs PostgreSQL (--database-url postgresql://...)")
        return 2
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
    repo, publisher = PostgresEngineRepository(url), WebhookPublisher(url)
    try:
        changes = refresh_due_states(repo, publisher, policy, now=_now())
    finally:
        repo.close()
        publisher.close()
    print(f"engine due: {changes} due-state changes")
    return 0


def forecasts(args: argparse.Namespace, settings: Settings) -> int:
    url = _postgres(settings)
    if url is None:
        print("engine forecast: needs PostgreSQL (--database-url postgresql://...)")
        return 2
    repo, store, publisher = (
        PostgresEngineRepository(url),
        PostgresForecastStore(url),
        WebhookPublisher(url),
    )
    try:
        raised = refresh_forecasts(
            repo, store, publisher, now=_now(), guard=args.guard, lead_days=args.lead_days
        )
    finally:
        repo.close()
        store.close()
        publisher.close()
    print(f"engine forecast: {raised} maintenance alerts raised")
    return 0


def plan_reminders(args: argparse.Namespace, settings: Settings) -> int:
    from labcal_cloud.scheduler.due_planning import plan_due_reminder_steps

    url = _postgres(settings)
    if url is None:
        print("engine plan-reminders: needs PostgreSQL (--database-url postgresql://...)")
        return 2
    secret = os.environ.get("LABCAL_LINK_SECRET", "")
    if len(secret) < 32:
        print("engine plan-reminders: LABCAL_LINK_SECRET must hold the portal's link key (>= 32)")
        return 2
    result = plan_due_reminder_steps(
        url,
        now=_now(),
        link_key=secret.encode(),
        booking_base_url=f"{args.portal_url.rstrip('/')}/book",
    )
    print(
        f"engine plan-reminders: {result.devices} due devices ({result.booked} booked, skipped),"
        f" {result.planned} steps planned, {result.added} new;"
        f" {result.cancelled} pending steps of devices ok again cancelled"
    )
    for user_id in result.bad_preferences:
        print(f"engine plan-reminders: user {user_id}: unusable preferences, defaults used")
    return 0
