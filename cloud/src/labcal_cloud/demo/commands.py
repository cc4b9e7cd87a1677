"""``labcal-cloud demo up``: ``serve`` on a fresh data dir, plus seed data, simulated stations
and edge agents (``./scripts/run``).

labcal-cloud demo up [--data-dir .cache/demo] [--port 0] [--roles …] [--json-logs]
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from labcal_cloud.serve.commands import add_serve_flags
from labcal_cloud.settings import Settings

__all__ = ["register"]


def register(subparsers: Any) -> None:
    demo: argparse.ArgumentParser = subparsers.add_parser(
        "demo", help="the whole system on this machine, with demo data (./scripts/run)"
    )
    sub = demo.add_subparsers(dest="demo_command", required=True, metavar="ACTION")
    up = sub.add_parser(
        "up",
        help="serve on a fresh data dir, seeded, with simulated stations; Ctrl-C stops it",
    )
    up.add_argument(
        "--data-dir",
        type=Path,
        default=Path(".cache/demo"),
        help="recreated at every start (only if the demo made it; default .cache/demo)",
    )
    add_serve_flags(up, port=0, broker_port=0, broker_env="LABCAL_DEMO_BROKER")
    up.add_argument("--password", default="demo-password-1", help="every demo user's password")
    up.add_argument("--devices", type=int, default=40, help="portal demo devices (default 40)")
    up.set_defaults(handler=run_up)


def run_up(args: argparse.Namespace, settings: Settings) -> int:
    import sys

    from labcal_cloud.demo.up import PROVIDER, DemoOptions, demo_up
    from labcal_cloud.serve.commands import serve_options
    from labcal_cloud.serve.roles import RoleError

    try:
        serve = serve_options(
            args,
            args.data_dir,
            provider=PROVIDER,
            keep_broker_state=False,
            ingest_client_id="demo-ingest-1",
        )
    except RoleError as exc:
        print(f"demo: {exc}", file=sys.stderr, flush=True)
        return 2
    return demo_up(DemoOptions(serve=serve, password=args.password, demo_devices=args.devices))
