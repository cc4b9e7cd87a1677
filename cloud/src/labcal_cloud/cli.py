"""The ``labcal-cloud`` command: global options, then one subcommand per task.

Subcommands live beside the code they drive. Each module in :data:`SUBCOMMAND_MODULES` exposes
``register(subparsers)`` which adds its parsers and sets ``handler=fn`` with
``fn(args: argparse.Namespace, settings: Settings) -> int``. To add yours, append your module's
import path to the list (one line).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from labcal_cloud.ops.logs import configure_logging, log_format_from_env
from labcal_cloud.settings import Settings, SettingsError

__all__ = ["SUBCOMMAND_MODULES", "build_parser", "main"]

SUBCOMMAND_MODULES: list[str] = [
    "labcal_cloud.storage.commands",
    "labcal_cloud.ingest.commands",
    "labcal_cloud.stations.commands",
    "labcal_cloud.readapi.commands",
    "labcal_cloud.portal.commands",
    "labcal_cloud.scheduler.commands",
    "labcal_cloud.pipeline.engine_cli",
    "labcal_cloud.pipeline.commands",
    "labcal_cloud.demo.commands",
    "labcal_cloud.serve.commands",
]


def build_parser(modules: Sequence[str] = SUBCOMMAND_MODULES) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="labcal-cloud", description="LabCal cloud: migrations, ingest, stations, API."
    )
    parser.add_argument(
        "--database-url", help="sqlite:///file.sqlite3 or postgresql://... (LABCAL_DATABASE_URL)"
    )
    parser.add_argument("--mqtt-url", help="mqtt://host:port or mqtts://... (LABCAL_MQTT_URL)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at debug level")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in modules:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        log_format = log_format_from_env()  # LABCAL_LOG_FORMAT=json: one JSON object per line
    except ValueError as exc:
        parser.exit(2, f"labcal-cloud: {exc}\n")
    configure_logging(log_format, logging.DEBUG if args.verbose else logging.INFO)
    try:
        settings = Settings.from_env(os.environ).override(
            database_url=args.database_url, mqtt_url=args.mqtt_url
        )
    except SettingsError as exc:
        parser.exit(2, f"labcal-cloud: {exc}\n")
    code: int = args.handler(args, settings)
    return code


if __name__ == "__main__":
    sys.exit(main())
