"""Benchmark the firmware simulator: fleet throughput and serial round trips.

    .venv/bin/python bench/bench_firmware_sim.py

Prints medians over several runs:
- fleet: pipette-days simulated per second (200 pipettes × 730 days, numpy day steps);
- MT-SICS ``SI`` round trips per second over a real pty and over TCP (pyserial client in the
  same process, server thread ticking every 10 ms but woken at once by input).
"""

from __future__ import annotations

import random
import statistics
import time

import serial

from labcal_sim.devices.mtsics import MtSicsBalance
from labcal_sim.fleet.model import FleetSpec, simulate_fleet
from labcal_sim.physics.balance import BalanceModel, BalanceSpec
from labcal_sim.ports import ManualClock
from labcal_sim.serve import DeviceServer
from labcal_sim.station import make_endpoint

RUNS = 5


def fleet_rate() -> float:
    spec = FleetSpec(pipettes=200, days=730)
    rates = []
    for seed in range(RUNS):
        start = time.perf_counter()
        simulate_fleet(spec, seed)
        rates.append(spec.pipettes * spec.days / (time.perf_counter() - start))
    return statistics.median(rates)


def round_trips(transport: str, commands: int = 300) -> float:
    clock = ManualClock()
    model = BalanceModel(BalanceSpec(), clock.now())
    model.place(100_000.0, clock.now())
    clock.advance(5.0)
    server = DeviceServer(
        MtSicsBalance(model, random.Random(1)), make_endpoint(transport), clock, random.Random(2)
    ).start()
    port = serial.serial_for_url(server.address, baudrate=9600, parity="N", timeout=2)
    try:
        rates = []
        for _ in range(RUNS):
            start = time.perf_counter()
            for _ in range(commands):
                port.write(b"SI\r\n")
                if not port.readline().startswith(b"S S"):
                    raise RuntimeError("unexpected reply")
            rates.append(commands / (time.perf_counter() - start))
        return statistics.median(rates)
    finally:
        port.close()
        server.stop()


def main() -> None:
    print(
        f"fleet simulation: {fleet_rate():,.0f} pipette-days/s (200 pipettes x 730 days, "
        f"median of {RUNS})"
    )
    for transport in ("pty", "tcp"):
        print(
            f"MT-SICS SI round trips over {transport}: {round_trips(transport):,.0f} /s "
            f"(median of {RUNS} x 300)"
        )


if __name__ == "__main__":
    main()
