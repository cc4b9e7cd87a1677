"""``labcal-sim``: the composition root of the simulator (one process, one clock, one seed).

    labcal-sim balance --protocol {mt-sics,sbi,and} (--pty [--link PATH] | --tcp HOST:PORT)
    labcal-sim pipette (--pty | --tcp HOST:PORT) [--serial …] [--nominal …]
    labcal-sim sensor  (--pty | --tcp HOST:PORT)
    labcal-sim scanner (--pty | --tcp HOST:PORT) [--code TEXT …] [--every S]
    labcal-sim station --config FILE
    labcal-sim fleet   {run,summary,export} [--pipettes N] [--days D] [--seed S] …

Serving commands print one line per device first (for a single device: only its path or URL;
for a station: ``kind<TAB>identity<TAB>path-or-URL``), then serve until SIGINT or SIGTERM and
exit 0. SIGUSR1 simulates unplugging every device; each reappears one second later at the same
address (hot-plug).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import signal
import sys
import threading
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from labcal_sim.clock import MonotonicClock
from labcal_sim.devices.base import Device
from labcal_sim.devices.scanner import BarcodeScanner
from labcal_sim.devices.sensor import EnvironmentSensor
from labcal_sim.faults import FaultSwitches
from labcal_sim.fleet.export import to_json, write_csv
from labcal_sim.fleet.model import FleetSpec, simulate_fleet
from labcal_sim.physics.balance import READABILITY_CLASSES
from labcal_sim.physics.environment import EnvironmentModel
from labcal_sim.serve import DeviceServer
from labcal_sim.station import Station, build_balance, build_pipette, build_station, make_endpoint
from labcal_sim.station_config import (
    PROTOCOLS,
    BalanceConfig,
    ConfigError,
    PipetteConfig,
    parse_station_config,
)

__all__ = ["main"]


def _transport_args(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--pty", action="store_true", help="serve on a new pseudo-terminal")
    where.add_argument("--tcp", metavar="HOST:PORT", help="serve on TCP (pyserial socket://)")
    parser.add_argument("--link", type=Path, help="stable symlink to the pty (hot-plug path)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--speed", type=float, default=1.0, help="clock speed (accelerated time)")
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="SPEC",
        help="garbage=P, drop=P, truncate=P, silent, delay=S, unstable (repeatable)",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="labcal-sim", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    balance = sub.add_parser("balance", help="serve one balance")
    balance.add_argument("--protocol", choices=PROTOCOLS, required=True)
    balance.add_argument("--readability", choices=tuple(READABILITY_CLASSES), default="0.01mg")
    balance.add_argument("--serial", default="B123456789")
    balance.add_argument("--settle", type=float, default=1.5, help="settling time (s)")
    balance.add_argument("--evaporation", type=float, default=0.0, help="mg/s from the vessel")
    balance.add_argument("--id-codes", action="store_true", help="SBI: 22-character lines")
    _transport_args(balance)

    pipette = sub.add_parser("pipette", help="serve one smart pipette")
    pipette.add_argument("--serial", default="LP1000-0001")
    pipette.add_argument("--model", default="LP-1000")
    pipette.add_argument("--make", default="LabCal")
    pipette.add_argument("--nominal", type=float, default=1000.0, help="nominal volume µL")
    pipette.add_argument("--min", type=float, default=100.0, help="minimum volume µL")
    pipette.add_argument("--systematic-pct", type=float, default=0.15)
    pipette.add_argument("--cv-pct", type=float, default=0.1)
    _transport_args(pipette)

    sensor = sub.add_parser("sensor", help="serve one environment sensor")
    sensor.add_argument("--serial", default="ENV-0001")
    _transport_args(sensor)

    scanner = sub.add_parser("scanner", help="serve one barcode/QR scanner")
    scanner.add_argument("--serial", default="SC-0001")
    scanner.add_argument("--code", action="append", default=[], help="code to scan (repeatable)")
    scanner.add_argument("--every", type=float, help="scan the next code every S seconds")
    _transport_args(scanner)

    station = sub.add_parser("station", help="serve a whole station from a TOML file")
    station.add_argument("--config", type=Path, required=True)

    fleet = sub.add_parser("fleet", help="simulate a fleet of pipettes with ground truth")
    fleet.add_argument("action", choices=("run", "summary", "export"), help="run = summary")
    fleet.add_argument("--pipettes", type=int, default=50)
    fleet.add_argument("--days", type=int, default=730)
    fleet.add_argument("--seed", type=int, default=0)
    fleet.add_argument("--service-interval", type=int, default=365, help="days between services")
    fleet.add_argument(
        "--start", type=dt.date.fromisoformat, default=dt.date(2025, 1, 1), help="first day"
    )
    fleet.add_argument("--format", choices=("json", "csv"), default="json")
    fleet.add_argument("--out", type=Path, help="file (json) or directory (csv); json: stdout")
    return parser


def _serve_until_signalled(station: Station, out: Sequence[str]) -> int:
    stop = threading.Event()

    def on_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    def on_unplug(signum: int, frame: FrameType | None) -> None:
        for server in station.servers:
            server.unplug(reappear_after_s=1.0)

    signal.signal(signal.SIGINT, on_stop)
    signal.signal(signal.SIGTERM, on_stop)
    signal.signal(signal.SIGUSR1, on_unplug)
    station.start()
    for line in out:
        print(line, flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        station.stop()
    return 0


def _single(args: argparse.Namespace, device: Device, clock: MonotonicClock) -> int:
    faults = FaultSwitches.parse(args.fault)
    transport = "pty" if args.pty else f"tcp:{args.tcp}"
    server = DeviceServer(
        device,
        make_endpoint(transport, args.link),
        clock,
        random.Random(args.seed + 1),
        faults=faults,
    )
    return _serve_until_signalled(Station([server]), [server.address])


def _check_tcp(value: str | None) -> None:
    if value is not None:
        host, _, port = value.rpartition(":")
        if not host or not port.isdigit():
            raise ConfigError(f"--tcp {value!r}: expected HOST:PORT, e.g. 127.0.0.1:5001")


def _run(args: argparse.Namespace) -> int:
    if args.command == "fleet":
        return _fleet(args)
    if args.command == "station":
        station_config = parse_station_config(args.config.read_text(encoding="utf-8"))
        station = build_station(station_config, MonotonicClock(station_config.speed))
        return _serve_until_signalled(station, station.listing())
    _check_tcp(args.tcp)
    clock = MonotonicClock(args.speed)
    rng = random.Random(args.seed)
    faults = FaultSwitches.parse(args.fault)
    device: Device
    if args.command == "balance":
        config = BalanceConfig(
            protocol=args.protocol,
            readability=args.readability,
            serial=args.serial,
            settle_s=args.settle,
            evaporation_mg_per_s=args.evaporation,
            id_codes=args.id_codes,
            faults=faults,
        )
        device = build_balance(config, rng, clock.now())
    elif args.command == "pipette":
        pipette = PipetteConfig(
            serial=args.serial,
            make=args.make,
            model=args.model,
            nominal_ul=args.nominal,
            min_ul=args.min,
            systematic_pct=args.systematic_pct,
            cv_pct=args.cv_pct,
        )
        device = build_pipette(pipette, rng)
    elif args.command == "sensor":
        device = EnvironmentSensor(EnvironmentModel(), rng, serial=args.serial)
    else:
        device = BarcodeScanner(serial=args.serial, codes=tuple(args.code), every_s=args.every)
    return _single(args, device, clock)


def _fleet(args: argparse.Namespace) -> int:
    spec = FleetSpec(
        pipettes=args.pipettes,
        days=args.days,
        start=args.start,
        service_interval_days=args.service_interval,
    )
    result = simulate_fleet(spec, args.seed)
    if args.action in ("run", "summary"):
        causes = Counter(f"{t.reason}/{t.cause}" for t in result.truth)
        print(f"pipettes {len(result.pipettes)}  days {spec.days}  seed {args.seed}")
        print(f"usage rows {len(result.usage)}  events {len(result.events)}")
        print(f"out-of-tolerance episodes {len(result.truth)}: {dict(sorted(causes.items()))}")
        return 0
    if args.format == "csv":
        if args.out is None:
            raise ConfigError("--format csv needs --out DIRECTORY")
        for path in write_csv(result, args.out):
            print(path)
        return 0
    text = to_json(result)
    if args.out is None:
        sys.stdout.write(text + "\n")
    else:
        args.out.write_text(text, encoding="utf-8")
        print(args.out)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except (ConfigError, ValueError, OSError) as exc:
        print(f"labcal-sim: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
