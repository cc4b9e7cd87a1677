"""``labcal-cloud pipeline run``: the pipeline's composition root, the same on SQLite and
PostgreSQL (one process per deployment is enough; more replicas are safe: a record is
certified once, the certificate's unique record id refuses a second one)."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from typing import Any

from labcal_cloud.engine.due import DuePolicy
from labcal_cloud.engine.errors import PolicyError
from labcal_cloud.ops.metrics_server import ops_server_from_env
from labcal_cloud.ops.shutdown import stop_on_signals
from labcal_cloud.pipeline.loop import PipelineTiming
from labcal_cloud.pipeline.metrics import PipelineCounters
from labcal_cloud.settings import Settings

__all__ = ["register"]


def register(subparsers: Any) -> None:
    p: argparse.ArgumentParser = subparsers.add_parser(
        "pipeline",
        help="stored runs -> calibration records -> signed certificates -> due states ->"
        " forecasts -> planned reminders",
    )
    sub = p.add_subparsers(dest="pipeline_command", required=True, metavar="ACTION")
    run = sub.add_parser(
        "run",
        help="run the pipeline until SIGTERM/SIGINT, woken by the database (LISTEN/NOTIFY on"
        " PostgreSQL, data_version on SQLite)",
    )
    run.add_argument("--once", action="store_true", help="one pass, then exit")
    run.add_argument(
        "--due-every",
        type=float,
        default=30.0,
        help="seconds between due-state refreshes while data arrives (default 30)",
    )
    run.add_argument(
        "--idle-due-every",
        type=float,
        default=60.0,
        help="seconds between due-state refreshes when nothing arrives (default 60)",
    )
    run.add_argument(
        "--forecast-every",
        type=float,
        default=600.0,
        help="seconds between maintenance forecasts without new records (default 600)",
    )
    run.add_argument(
        "--due-soon-days", type=float, default=30.0, help="due soon this many days ahead"
    )
    run.add_argument(
        "--grace-days", type=float, default=14.0, help="'due' this long past the date, then overdue"
    )
    run.set_defaults(handler=run_pipeline_command)


def _now() -> datetime:
    return datetime.now(UTC)


def _say(text: str) -> None:
    print(text, flush=True)


def run_pipeline_command(args: argparse.Namespace, settings: Settings) -> int:
    from labcal_cloud.pipeline.assembly import build_stages
    from labcal_cloud.pipeline.loop import run_pipeline
    from labcal_cloud.pipeline.wake import wake_for

    try:
        policy = DuePolicy(due_soon_days=args.due_soon_days, grace_days=args.grace_days)
        timing = PipelineTiming(
            due_every_s=args.due_every,
            idle_due_s=args.idle_due_every,
            forecast_every_s=args.forecast_every,
        )
    except PolicyError as exc:
        print(f"pipeline: {exc}", file=sys.stderr)
        return 2
    os.environ.setdefault("LABCAL_PORTAL_DATABASE_URL", settings.database_url)
    try:
        assembly = build_stages(settings.database_url, policy, now=_now)
    except ValueError as exc:  # missing or weak secrets, no signing key, a bad URL
        print(f"pipeline: {exc}", file=sys.stderr)
        return 2
    wake = wake_for(settings.database_url)
    counters = PipelineCounters()
    # /healthz /readyz /metrics on LABCAL_METRICS_PORT (when set), see labcal_cloud.ops
    ops = ops_server_from_env(os.environ, counters.prometheus, counters.ready)
    try:
        with stop_on_signals() as stop:
            failures = run_pipeline(
                assembly.stages,
                wake,
                stop,
                _say,
                timing=timing,
                once=args.once,
                observe=counters.observe,
            )
    finally:
        wake.close()
        assembly.close()
        if ops is not None:
            ops.close()
    _say(f"pipeline: stopped ({failures} failed pass(es))")
    return 1 if args.once and failures else 0
