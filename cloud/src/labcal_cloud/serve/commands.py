"""``labcal-cloud serve`` (LabCal on one machine, data kept in a data dir) and
``labcal-cloud broker`` (the embedded MQTT 3.1.1 broker serve starts without Mosquitto).

labcal-cloud serve --data-dir /var/lib/labcal                  # every role
labcal-cloud serve --data-dir DIR --roles api,ingest --mqtt-url mqtt://broker:1883
labcal-cloud broker --port 1883
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from pathlib import Path
from typing import Any

from labcal_cloud.serve.options import ServeOptions
from labcal_cloud.serve.roles import ROLES, RoleError, parse_roles
from labcal_cloud.settings import Settings

__all__ = ["add_serve_flags", "register", "serve_options"]


def add_serve_flags(
    p: argparse.ArgumentParser, *, port: int, broker_port: int, broker_env: str | None = None
) -> None:
    """The flags ``serve`` and ``demo up`` share (``--data-dir`` is each command's own);
    ``broker_env``: an environment variable that gives ``--broker`` its default."""
    p.add_argument(
        "--roles",
        default=",".join(ROLES),
        help=f"comma-separated roles to run (default: all: {','.join(ROLES)})",
    )
    p.add_argument("--host", default="127.0.0.1", help="the API's address (default 127.0.0.1)")
    p.add_argument(
        "--port", type=int, default=port, help=f"the API's port (default {port}; 0: a free one)"
    )
    p.add_argument(
        "--database-url",
        dest="serve_database_url",
        metavar="URL",
        help="sqlite:///… or postgresql://… (default: sqlite:///DIR/labcal.sqlite3)",
    )
    p.add_argument(
        "--mqtt-url",
        dest="serve_mqtt_url",
        metavar="URL",
        help="use this broker (mqtt://host:port); then no broker is started",
    )
    env_note = f"; env {broker_env}" if broker_env else ""
    p.add_argument(
        "--broker",
        choices=("auto", "mosquitto", "embedded"),
        default=os.environ.get(broker_env, "auto") if broker_env else "auto",
        help=f"the broker to start: auto (default{env_note}): a private Mosquitto when the "
        "binary is present, else the embedded amqtt (MQTT 3.1.1)",
    )
    p.add_argument(
        "--broker-port",
        type=int,
        default=broker_port,
        help=f"the started broker's port on 127.0.0.1 (default {broker_port}; 0: a free one)",
    )
    p.add_argument(
        "--smtp-host", default="127.0.0.1", help="the scheduler's SMTP server (default 127.0.0.1)"
    )
    p.add_argument("--smtp-port", type=int, default=25, help="its port (default 25)")
    p.add_argument(
        "--base-url",
        metavar="URL",
        help="the portal's public URL, in e-mails and booking links (default http://HOST:PORT)",
    )
    p.add_argument(
        "--json-logs", action="store_true", help="the roles log one JSON object per line"
    )


def register(subparsers: Any) -> None:
    serve: argparse.ArgumentParser = subparsers.add_parser(
        "serve",
        help="LabCal on this machine: broker, API + portal, ingest, pipeline, scheduler",
        description="Start the roles as supervised child processes (migrations first); "
        "the data dir keeps the database, the secrets and the logs across restarts. "
        "SIGINT/SIGTERM stops every role and exits 0.",
    )
    serve.add_argument(
        "--data-dir",
        type=Path,
        required=True,
        help="where the database, secrets and logs live (created if missing, never wiped)",
    )
    add_serve_flags(serve, port=8000, broker_port=1883)
    serve.set_defaults(handler=run_serve)
    broker: argparse.ArgumentParser = subparsers.add_parser(
        "broker", help="the embedded MQTT 3.1.1 broker (amqtt), loopback by default"
    )
    broker.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    broker.add_argument("--port", type=int, default=1883, help="listen port (default 1883)")
    broker.set_defaults(handler=run_broker)


def serve_options(args: argparse.Namespace, data_dir: Path, **more: Any) -> ServeOptions:
    """The typed options from the shared flags (raises RoleError for a bad ``--roles``)."""
    return ServeOptions(
        data_dir=data_dir,
        roles=parse_roles(args.roles),
        host=args.host,
        port=args.port,
        database_url=args.serve_database_url or args.database_url,
        mqtt_url=args.serve_mqtt_url or args.mqtt_url,
        broker=args.broker,
        broker_port=args.broker_port,
        smtp_host=args.smtp_host,
        smtp_port=args.smtp_port,
        base_url=args.base_url,
        json_logs=args.json_logs,
        **more,
    )


def run_serve(args: argparse.Namespace, settings: Settings) -> int:
    from labcal_cloud.serve.console import Console
    from labcal_cloud.serve.lifecycle import run_supervised
    from labcal_cloud.serve.session import ServeSession

    try:
        provider = os.environ.get("LABCAL_PROVIDER_NAME", "LabCal Service")
        opts = serve_options(args, args.data_dir, provider=provider)
    except RoleError as exc:
        print(f"serve: {exc}", file=sys.stderr, flush=True)
        return 2
    say = Console()
    stop = threading.Event()
    session = ServeSession(opts, say, stop)

    def body() -> int:
        say(f"serve: data in {opts.data_dir.resolve()} (kept across restarts; logs in logs/)")
        session.prepare()
        session.start_roles()
        say("")
        for line in session.banner():
            say(line)
        say(f"Started in {say.elapsed():.1f} s. Ctrl-C stops everything.")
        say("")
        while not stop.is_set():
            session.tick()
            stop.wait(0.5)
        return 0

    def stop_all() -> None:
        session.stop_all()
        say("all roles stopped")

    return run_supervised(
        body,
        stop=stop,
        stop_all=stop_all,
        say=say,
        name="serve",
        stopping_text="stopping every role",
    )


def run_broker(args: argparse.Namespace, settings: Settings) -> int:
    from labcal_cloud.serve.embedded_broker import serve_embedded_broker

    return serve_embedded_broker(args.host, args.port)
