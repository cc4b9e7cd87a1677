"""The fault benchmark's lab: simulated stations (labcal_sim) on TCP, with pipettes in use.

Run: python bench/faults_sim.py --stations 0-9 --balances 2 --seed 1 [--dispense-s 0.2]

For each station index: ``--balances`` MT-SICS balances and one LabCal smart pipette pouring into
the first one, each on its own TCP port (pyserial ``socket://``). Prints one JSON line per
station (``{"station": i, "balances": [url, …], "pipette": url}``), then ``ready``, then keeps
dispensing with every pipette every ``--dispense-s`` seconds (its counters move, so the edge
sends usage reports) until SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading

from labcal_sim.clock import MonotonicClock
from labcal_sim.serve import DeviceServer
from labcal_sim.station import Station, build_station
from labcal_sim.station_config import BalanceConfig, PipetteConfig, StationConfig


def station_range(text: str) -> list[int]:
    first, _, last = text.partition("-")
    return list(range(int(first), int(last or first) + 1))


def build(index: int, balances: int, seed: int, clock: MonotonicClock) -> list[Station]:
    """The station's devices; extra balances are stations of their own (no pipette)."""
    pipette = PipetteConfig(transport="tcp", serial=f"LP-{index:03d}", nominal_ul=1000.0)
    first = StationConfig(
        seed=seed * 1000 + index,
        balance=BalanceConfig(transport="tcp", serial=f"B{index:03d}-0", vessel_g=20.0),
        pipettes=(pipette,),
    )
    extra = [
        StationConfig(
            seed=seed * 1000 + index * 10 + b,
            balance=BalanceConfig(transport="tcp", serial=f"B{index:03d}-{b}", vessel_g=10.0),
        )
        for b in range(1, balances)
    ]
    return [build_station(c, clock).start() for c in [first, *extra]]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--stations", required=True, help="station indexes, e.g. 0-9")
    ap.add_argument("--balances", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dispense-s", type=float, default=0.2)
    args = ap.parse_args()
    clock = MonotonicClock()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    pipettes: list[DeviceServer] = []
    everything: list[Station] = []
    for index in station_range(args.stations):
        parts = build(index, args.balances, args.seed, clock)
        everything += parts
        balances = [s.address for p in parts for s in p.servers if s.device.kind == "balance"]
        pipette = next(s for s in parts[0].servers if s.device.kind == "pipette")
        pipettes.append(pipette)
        print(json.dumps({"station": index, "balances": balances, "pipette": pipette.address}))
    print("ready", flush=True)
    try:
        while not stop.wait(args.dispense_s):
            for server in pipettes:
                with server.lock:
                    server.device.handle_line(b"DISPENSE", clock.now())
    finally:
        for station in everything:
            station.stop()
    sys.exit(0)


if __name__ == "__main__":
    main()
