"""``labcal-cloud demo up|api|worker``.

labcal-cloud demo up [--data-dir .cache/demo] [--port 0] [--json-logs]   # everything
labcal-cloud demo api --port 8000        # API + portal + inbox + /healthz /readyz /metrics
labcal-cloud demo worker --tenant ID     # projector, due states, scheduler (inbox)
labcal-cloud demo broker --port 1883     # the embedded MQTT 3.1.1 broker (amqtt)
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path
from typing import Any

from labcal_cloud.ops.logs import configure_logging, log_format_from_env
from labcal_cloud.portal.settings import PortalSettings
from labcal_cloud.settings import Settings

__all__ = ["register"]


def register(subparsers: Any) -> None:
    demo: argparse.ArgumentParser = subparsers.add_parser(
        "demo", help="the whole system on this machine (./scripts/run)"
    )
    sub = demo.add_subparsers(dest="demo_command", required=True, metavar="ACTION")
    up = sub.add_parser("up", help="start everything; Ctrl-C stops it")
    up.add_argument("--data-dir", type=Path, default=Path(".cache/demo"))
    up.add_argument("--host", default="127.0.0.1")
    up.add_argument("--port", type=int, default=0, help="portal port (default: a free one)")
    up.add_argument("--password", default="demo-password-1", help="every demo user's password")
    up.add_argument("--devices", type=int, default=40, help="portal demo devices")
    up.add_argument("--json-logs", action="store_true", help="JSON logs from the cloud processes")
    up.add_argument(
        "--broker",
        choices=("auto", "mosquitto", "embedded"),
        default=os.environ.get("LABCAL_DEMO_BROKER", "auto"),
        help="auto (default; env LABCAL_DEMO_BROKER): a private Mosquitto when the binary is "
        "present, else the embedded amqtt broker (MQTT 3.1.1)",
    )
    up.set_defaults(handler=run_up)
    api = sub.add_parser("api", help="serve the API and portal of the demo")
    api.add_argument("--host", default="127.0.0.1")
    api.add_argument("--port", type=int, default=8000)
    api.set_defaults(handler=run_api)
    worker = sub.add_parser("worker", help="projector, due states and reminder delivery")
    worker.add_argument("--tenant", required=True)
    worker.add_argument("--interval", type=float, default=1.0, help="seconds between passes")
    worker.add_argument("--due-every", type=float, default=10.0, help="seconds between due passes")
    worker.set_defaults(handler=run_worker_command)
    broker = sub.add_parser("broker", help="the embedded MQTT 3.1.1 broker (amqtt)")
    broker.add_argument("--host", default="127.0.0.1")
    broker.add_argument("--port", type=int, default=1883)
    broker.set_defaults(handler=run_broker)


def _portal_settings(settings: Settings) -> PortalSettings:
    env = os.environ
    key, cert = env.get("LABCAL_SIGNING_KEY"), env.get("LABCAL_SIGNING_CERT")
    return PortalSettings(
        database_url=settings.database_url,
        base_url=env.get("LABCAL_BASE_URL", PortalSettings.base_url).rstrip("/"),
        signing_key=Path(key) if key else None,
        signing_cert=Path(cert) if cert else None,
        cookie_secure=env.get("LABCAL_COOKIE_SECURE", "1") != "0",
        provider_name=env.get("LABCAL_PROVIDER_NAME", "LabCal Demo Service"),
        link_secret=env.get("LABCAL_LINK_SECRET", ""),
    )


def _logging() -> None:
    configure_logging(log_format_from_env(), logging.INFO)
    logging.getLogger("paho").setLevel(logging.WARNING)


def run_up(args: argparse.Namespace, settings: Settings) -> int:
    from labcal_cloud.demo.up import UpOptions, demo_up

    opts = UpOptions(
        data_dir=args.data_dir,
        host=args.host,
        port=args.port,
        password=args.password,
        demo_devices=args.devices,
        json_logs=args.json_logs,
        broker=args.broker,
    )
    return demo_up(opts)


def run_api(args: argparse.Namespace, settings: Settings) -> int:
    from labcal_cloud.demo.api import serve

    _logging()
    serve(_portal_settings(settings), args.host, args.port)
    return 0


def run_broker(args: argparse.Namespace, settings: Settings) -> int:
    from labcal_cloud.demo.embedded_broker import serve_embedded_broker

    _logging()
    return serve_embedded_broker(args.host, args.port)


def run_worker_command(args: argparse.Namespace, settings: Settings) -> int:
    from labcal_cloud.demo.up import TRACEABILITY
    from labcal_cloud.demo.worker import run_worker
    from labcal_cloud.portal.app import build_services

    _logging()
    services = build_services(_portal_settings(settings))

    def say(text: str) -> None:
        print(text, flush=True)

    try:
        return run_worker(
            services,
            args.tenant,
            interval_s=args.interval,
            due_every_s=args.due_every,
            traceability=TRACEABILITY,
            say=say,
        )
    finally:
        services.db.close()
