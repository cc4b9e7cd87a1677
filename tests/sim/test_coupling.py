"""A whole gravimetric run through a simulated station over ptys, against known ground truth.

The test plays the edge: it reads the sensor, tares the vessel, measures evaporation
(ISO 8655-6:2022 §9.1 style: weighings one cycle apart without delivery), then triggers ten
``DISPENSE`` cycles on the pipette's serial line and reads stable weights from the balance's.
Volumes are ``(Δm + evaporation per cycle) · Z``. They must reproduce the volumes the simulated
pipette really delivered (the bench's truth) within the balance's noise, and so its error.
"""

from __future__ import annotations

import itertools
import math
import statistics

import serial

from labcal_shared.iso8655.zfactor import z_factor
from labcal_shared.protocols import mtsics
from labcal_shared.protocols import pipette as pp
from labcal_shared.protocols.sensor import conditions_from
from labcal_sim.devices.mtsics import MtSicsBalance
from labcal_sim.ports import ManualClock
from labcal_sim.station import build_station
from labcal_sim.station_config import parse_station_config

from .support import ask, open_port

STATION = """
seed = 11

[balance]
protocol = "mt-sics"
readability = "0.01mg"
settle_s = 1.5
evaporation_mg_per_s = 0.002

[[pipettes]]
serial = "LP100-0007"
model = "LP-100"
nominal_ul = 100
min_ul = 10
systematic_pct = 0.6
cv_pct = 0.12

[sensor]
"""
CYCLE_S = 30.0
READABILITY_MG = 0.01


def _stable_mg(port: serial.Serial, clock: ManualClock) -> float:
    port.write(mtsics.format_command("S"))
    line = port.readline()
    while not line:  # S waits for stability; the manual clock must move on
        clock.advance(0.5)
        line = port.readline()
    return float(mtsics.parse_weight(line).to_mg())


def test_gravimetric_run_reproduces_the_pipette_error():
    clock = ManualClock(1_000.0)
    station = build_station(parse_station_config(STATION), clock).start()
    balance_server = station.servers[0]
    assert station.bench is not None
    assert isinstance(balance_server.device, MtSicsBalance)
    ports = [open_port(s.address, timeout=0.5) for s in station.servers]
    balance, pipette, sensor = ports
    try:
        conditions = conditions_from(pp.parse_line(ask(sensor, b"MEAS\r\n")[0]))
        z = z_factor(
            conditions.water_temp_c,
            conditions.pressure_kpa,
            conditions.humidity_pct,
            conditions.air_temp_c,
        )
        (m28,) = ask(balance, b"M28\r\n")  # the balance's sensor sees the same room
        room = station.bench.environment.conditions(clock.now())
        assert m28 == f"M28 A 1 {room.air_temp_c:.1f}\r\n".encode()
        with balance_server.lock:
            station.bench.balance.place(20_000.0, clock.now())  # weighing vessel …
            station.bench.balance.add_liquid(5_000.0, clock.now())  # … with some water
        clock.advance(2.0)
        assert ask(balance, b"T\r\n")[0].startswith(b"T S ")

        m00 = _stable_mg(balance, clock)
        clock.advance(CYCLE_S)
        m0 = _stable_mg(balance, clock)

        masses = [m0]
        for _ in range(10):
            assert ask(pipette, b"DISPENSE\r\n")[0].startswith(b"DISPENSE OK ")
            clock.advance(CYCLE_S)
            masses.append(_stable_mg(balance, clock))
        clock.advance(CYCLE_S)
        mn1 = _stable_mg(balance, clock)
        evaporation = ((m00 - m0) + (masses[-1] - mn1)) / 2
        # The open vessel loses 0.002 mg/s · 30 s; the estimate errs by σ ≈ 0.85 digit.
        assert abs(evaporation - 0.002 * CYCLE_S) < 3.5 * READABILITY_MG
        volumes = [(b - a + evaporation) * z for a, b in itertools.pairwise(masses)]

        truth = [t.delivered_ul for t in station.bench.truth]
        assert len(truth) == 10
        assert all(t.serial == "LP100-0007" for t in station.bench.truth)
        # One reading errs by noise (0.8 digit) and rounding (0.29 digit): σ ≈ 0.85 digit.
        # A volume combines two readings and the evaporation estimate (σ ≈ 1.5 digits):
        # 6 digits is 4 σ.
        tolerance_ul = 6 * READABILITY_MG * z
        for measured, real in zip(volumes, truth, strict=True):
            assert math.isclose(measured, real, abs_tol=tolerance_ul)

        systematic_measured = statistics.mean(volumes) - 100.0
        systematic_true = statistics.mean(truth) - 100.0
        # The mean is dominated by the shared evaporation estimate (σ ≈ 0.85 digit): 4 σ.
        assert abs(systematic_measured - systematic_true) < 3.5 * READABILITY_MG * z
        # …and the truth itself is the pipette's configured error: +0.6 % ± its random error.
        assert abs(systematic_true - 0.6) < 4 * 0.12 / math.sqrt(10)
        assert abs(statistics.stdev(volumes) - statistics.stdev(truth)) < 2 * READABILITY_MG
    finally:
        for port in ports:
            port.close()
        station.stop()


def test_station_listing_names_every_device(tmp_path):
    text = f'link_dir = "{tmp_path}"\n' + STATION + '\n[scanner]\ncodes = ["LP100-0007"]\n'
    clock = ManualClock()
    station = build_station(parse_station_config(text), clock).start()
    try:
        listing = [line.split("\t") for line in station.listing()]
        assert [kind for kind, _, _ in listing] == ["balance", "pipette", "sensor", "scanner"]
        assert "B123456789" in listing[0][1]
        assert "LP100-0007" in listing[1][1]
        for _, _, address in listing:
            assert address.startswith(str(tmp_path))
            port = open_port(address)
            port.close()
    finally:
        station.stop()
