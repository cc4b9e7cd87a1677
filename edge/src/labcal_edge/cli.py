"""``labcal-edge``: check-config, run, gravimetric.

    labcal-edge check-config FILE
    labcal-edge run --config FILE
    labcal-edge gravimetric --config FILE [--script FILE] [--quick]

Exit codes: 0 success, 1 run failed (e.g. a gravimetric run did not pass or was aborted),
2 configuration or usage error.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from labcal_edge import __version__
from labcal_edge.config import EdgeConfig, load_config, missing_files
from labcal_edge.errors import ConfigError, EdgeError

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="labcal-edge", description="LabCal station agent")
    parser.add_argument("--version", action="version", version=f"labcal-edge {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check-config", help="validate a configuration file")
    check.add_argument("file", type=Path)
    run = sub.add_parser("run", help="run the station agent until SIGTERM")
    run.add_argument("--config", type=Path, required=True)
    grav = sub.add_parser("gravimetric", help="guided gravimetric run (ISO 8655-6)")
    grav.add_argument("--config", type=Path, required=True)
    grav.add_argument("--script", type=Path, help="non-interactive: answers from a TOML script")
    grav.add_argument("--quick", action="store_true", help="quick check instead of calibration")
    return parser


def _logging(config: EdgeConfig) -> None:
    logging.basicConfig(
        level=config.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("paho").setLevel(logging.WARNING)


def _stop_on_signals() -> threading.Event:
    """An event that SIGTERM and SIGINT set. Not ``stop.set()`` in the handler: it runs in the
    main thread between two bytecodes, possibly while the agent's ``stop.wait()`` there holds the
    event's lock, and would wait for that lock forever; a short thread sets it."""
    stop = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        if not stop.is_set():  # reads the flag without the lock
            threading.Thread(target=stop.set, name="stop-on-signal", daemon=True).start()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    return stop


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "check-config":
            config = load_config(args.file)
            print(
                f"{args.file}: OK — station {config.station.tenant}/{config.station.id}, "
                f"broker {config.mqtt.host}:{config.mqtt.port}, {len(config.balance)} balance(s), "
                f"{len(config.pipette)} pipette(s), outbox {config.outbox_path} "
                f"(capacity {config.outbox.capacity}, policy {config.outbox.policy.value})"
            )
            for warning in missing_files(config):
                print(f"{args.file}: warning: {warning}", file=sys.stderr)
            return 0
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"labcal-edge: {exc}", file=sys.stderr)
        return 2
    _logging(config)
    try:
        if args.command == "run":
            from labcal_edge.agent import Agent

            Agent(config).run(_stop_on_signals())
            return 0
        from labcal_edge.gravimetric_cli import run_gravimetric

        # Ctrl-C at the terminal aborts a run (what was measured is already in the outbox), even
        # when the process was started by a parent that ignores SIGINT (ignoring is inherited).
        signal.signal(signal.SIGINT, signal.default_int_handler)
        return run_gravimetric(config, args.script, quick=args.quick, stop=threading.Event())
    except KeyboardInterrupt:
        print("\nlabcal-edge: run aborted (Ctrl-C)", file=sys.stderr)
        return 1
    except EdgeError as exc:
        logging.getLogger("labcal_edge").error("%s", exc)
        return 1


if __name__ == "__main__":
    sys.exit(main())
