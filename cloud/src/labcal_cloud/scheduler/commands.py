"""``labcal-cloud scheduler run``: the scheduler's composition root."""

from __future__ import annotations

import argparse
import logging
import os
import socket
from datetime import UTC, datetime
from typing import Any

from labcal_cloud.ops.metrics_server import ops_server_from_env
from labcal_cloud.ops.pass_counters import PassCounters
from labcal_cloud.ops.shutdown import stop_on_signals
from labcal_cloud.scheduler.channels import EmailSender, GatewaySender, InboxSender
from labcal_cloud.scheduler.pg_store import PostgresReminderStore
from labcal_cloud.scheduler.ports import Sender
from labcal_cloud.scheduler.runner import run_pass, run_webhook_pass
from labcal_cloud.scheduler.webhook_store import PostgresWebhookStore
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


def _now() -> datetime:
    return datetime.now(UTC)


def run_scheduler(args: argparse.Namespace, settings: Settings) -> int:
    url = settings.database_url
    if not url.startswith(("postgresql://", "postgres://")):
        print("scheduler: needs PostgreSQL (the claim uses FOR UPDATE SKIP LOCKED)")
        return 2
    key = os.environ.get("LABCAL_GATEWAY_KEY", "").encode()
    if (args.sms_gateway or args.push_gateway) and len(key) < 16:
        print("scheduler: set LABCAL_GATEWAY_KEY (≥ 16 bytes) to sign gateway requests")
        return 2
    store = PostgresReminderStore(url)
    email = EmailSender(args.smtp_host, args.smtp_port, args.mail_from, _now)
    senders: dict[str, Sender] = {
        "email": email,
        "inbox": InboxSender(store, _now),
    }
    if args.sms_gateway:
        senders["sms"] = GatewaySender(args.sms_gateway, key, "sms")
    if args.push_gateway:
        senders["push"] = GatewaySender(args.push_gateway, key, "push")
    hooks = PostgresWebhookStore(url)
    total = 0
    counts = PassCounters()
    # /healthz /readyz /metrics on LABCAL_METRICS_PORT (when set), see labcal_cloud.ops
    ops = ops_server_from_env(os.environ, counts.prometheus, counts.ready)
    # SIGTERM/SIGINT: the current pass finishes, then exit 0
    with stop_on_signals() as stop:
        try:
            while not stop.is_set():
                result = run_pass(store, senders, worker=args.worker, now=_now, batch=args.batch)
                hooked = run_webhook_pass(hooks, worker=args.worker, now=_now, batch=args.batch)
                counts.add(result, hooked)
                total += result.sent
                if result.claimed == 0 and hooked.claimed == 0:
                    if args.until_idle:
                        break
                    stop.wait(args.interval)
        finally:
            email.close()
            store.close()
            hooks.close()
            if ops is not None:
                ops.close()
    print(f"scheduler {args.worker}: {total} sent")
    return 0
