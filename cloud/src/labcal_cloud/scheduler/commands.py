"""``labcal-cloud scheduler run`` (deliver due steps and webhooks) and ``scheduler plan`` (one
planning pass of the due reminders): the scheduler's composition root, on SQLite or PostgreSQL."""

from __future__ import annotations

import argparse
import logging
import os
import socket
from datetime import UTC, datetime
from typing import Any

from labcal_cloud.db.gateway import connect
from labcal_cloud.ops.metrics_server import ops_server_from_env
from labcal_cloud.ops.pass_counters import PassCounters
from labcal_cloud.ops.shutdown import stop_on_signals
from labcal_cloud.portal.settings import LinkSecretError, link_secret_from_env
from labcal_cloud.scheduler.channels import EmailSender, GatewaySender, InboxSender
from labcal_cloud.scheduler.ports import Sender
from labcal_cloud.scheduler.reminder_store import SqlReminderStore
from labcal_cloud.scheduler.restate import DueRestater
from labcal_cloud.scheduler.runner import run_pass, run_webhook_pass
from labcal_cloud.scheduler.webhook_store import SqlWebhookStore
from labcal_cloud.settings import Settings

__all__ = ["register"]

log = logging.getLogger(__name__)


def register(subparsers: Any) -> None:
    p: argparse.ArgumentParser = subparsers.add_parser(
        "scheduler", help="deliver due reminder steps and webhooks (once across replicas)"
    )
    sub = p.add_subparsers(dest="scheduler_command", required=True, metavar="ACTION")
    run = sub.add_parser("run", help="claim and deliver due steps in a loop")
    run.add_argument("--worker", default=f"{socket.gethostname()}-{os.getpid()}")
    run.add_argument("--smtp-host", default="127.0.0.1")
    run.add_argument("--smtp-port", type=int, default=25)
    run.add_argument("--mail-from", default="LabCal <reminders@labcal.invalid>")
    run.add_argument("--sms-gateway", help="URL of the SMS HTTP gateway")
    run.add_argument("--push-gateway", help="URL of the push HTTP gateway")
    run.add_argument("--batch", type=int, default=20)
    run.add_argument("--interval", type=float, default=5.0, help="seconds between idle polls")
    run.add_argument(
        "--until-idle", action="store_true", help="exit when a pass finds nothing to send"
    )
    run.set_defaults(handler=run_scheduler)
    plan = sub.add_parser(
        "plan",
        help="one planning pass: the due reminders of portal users (their channels, time zone,"
        " quiet hours) into the reminder steps; idempotent (needs LABCAL_LINK_SECRET)",
    )
    plan.add_argument(
        "--portal-url",
        default=os.environ.get("LABCAL_BASE_URL", "http://127.0.0.1:8000"),
        help="the portal's base URL for the one-click booking links (LABCAL_BASE_URL)",
    )
    plan.set_defaults(handler=plan_reminders)


def _now() -> datetime:
    return datetime.now(UTC)


def run_scheduler(args: argparse.Namespace, settings: Settings) -> int:
    key = os.environ.get("LABCAL_GATEWAY_KEY", "").encode()
    if (args.sms_gateway or args.push_gateway) and len(key) < 16:
        print("scheduler: set LABCAL_GATEWAY_KEY (≥ 16 bytes) to sign gateway requests")
        return 2
    db = connect(settings.database_url)
    store = SqlReminderStore(db)
    email = EmailSender(args.smtp_host, args.smtp_port, args.mail_from, _now)
    senders: dict[str, Sender] = {
        "email": email,
        "inbox": InboxSender(store, _now),
    }
    if args.sms_gateway:
        senders["sms"] = GatewaySender(args.sms_gateway, key, "sms")
    if args.push_gateway:
        senders["push"] = GatewaySender(args.push_gateway, key, "push")
    hooks = SqlWebhookStore(db)
    restate = DueRestater(db)  # the due state as it is when a reminder goes out
    total = 0
    counts = PassCounters()
    # /healthz /readyz /metrics on LABCAL_METRICS_PORT (when set), see labcal_cloud.ops
    ops = ops_server_from_env(os.environ, counts.prometheus, counts.ready)
    # SIGTERM/SIGINT: the current pass finishes, then exit 0
    with stop_on_signals() as stop:
        try:
            while not stop.is_set():
                result = run_pass(
                    store,
                    senders,
                    worker=args.worker,
                    now=_now,
                    batch=args.batch,
                    restate=restate,
                )
                hooked = run_webhook_pass(hooks, worker=args.worker, now=_now, batch=args.batch)
                counts.add(result, hooked)
                total += result.sent
                if result.claimed == 0 and hooked.claimed == 0:
                    if args.until_idle:
                        break
                    stop.wait(args.interval)
        finally:
            email.close()
            db.close()
            if ops is not None:
                ops.close()
    print(f"scheduler {args.worker}: {total} sent")
    return 0


def plan_reminders(args: argparse.Namespace, settings: Settings) -> int:
    from labcal_cloud.scheduler.due_planning import plan_due_reminder_steps

    try:
        secret = link_secret_from_env()
    except LinkSecretError as exc:
        print(f"scheduler plan: {exc}")
        return 2
    db = connect(settings.database_url)
    try:
        result = plan_due_reminder_steps(
            db,
            now=_now(),
            link_key=secret.encode(),
            booking_base_url=f"{args.portal_url.rstrip('/')}/book",
        )
    finally:
        db.close()
    print(
        f"scheduler plan: {result.devices} due devices ({result.booked} booked, skipped),"
        f" {result.planned} steps planned, {result.added} new, {result.resumed} resumed;"
        f" {result.cancelled} pending steps of devices ok again cancelled"
    )
    for user_id in result.bad_preferences:
        print(f"scheduler plan: user {user_id}: unusable preferences, defaults used")
    return 0
