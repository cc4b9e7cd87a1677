"""Every simulated device, driven with pyserial over a real pty and over TCP."""

from __future__ import annotations

import random

import pytest

from labcal_shared.protocols import aandd, mtsics, sbi
from labcal_shared.protocols import pipette as pp
from labcal_shared.protocols.scanner import parse_scan
from labcal_shared.protocols.sensor import conditions_from
from labcal_sim.devices.aandd import AndBalance
from labcal_sim.devices.mtsics import MtSicsBalance
from labcal_sim.devices.pipette import SmartPipette
from labcal_sim.devices.sbi import SbiBalance
from labcal_sim.devices.scanner import BarcodeScanner
from labcal_sim.devices.sensor import EnvironmentSensor
from labcal_sim.physics.environment import EnvironmentModel
from labcal_sim.physics.pipette import PipetteModel, PipetteSpec
from labcal_sim.ports import ManualClock

from .support import TRANSPORTS, ask, quiet_balance, serving, silent_for


def _settled_balance(clock: ManualClock):
    model = quiet_balance(clock, readability_mg=0.01)
    model.place(42_123.45, clock.now())
    clock.advance(5.0)
    return model


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_mtsics_balance(transport):
    clock = ManualClock()
    device = MtSicsBalance(_settled_balance(clock), random.Random(1))
    with serving(device, transport, clock) as (_, port):
        (line,) = ask(port, mtsics.format_command("S"))
        assert str(mtsics.parse_weight(line).value) == "42.12345"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_sbi_balance(transport):
    clock = ManualClock()
    device = SbiBalance(_settled_balance(clock), random.Random(1))
    with serving(device, transport, clock) as (_, port):
        (line,) = ask(port, sbi.format_command("P"))
        reading = sbi.parse_weight(line)
        assert (str(reading.value), reading.unit, reading.stable) == ("42.12345", "g", True)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_and_balance(transport):
    clock = ManualClock()
    model = quiet_balance(clock)
    model.place(42_120.0, clock.now())
    clock.advance(5.0)
    with serving(AndBalance(model, random.Random(1)), transport, clock) as (_, port):
        (line,) = ask(port, aandd.format_command("Q"))
        assert str(aandd.parse_weight(line).value) == "42.12"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_pipette(transport):
    clock = ManualClock()
    received = []
    model = PipetteModel(PipetteSpec(serial="LP1000-0042"))
    device = SmartPipette(model, random.Random(1), lambda *a: received.append(a))
    with serving(device, transport, clock) as (server, port):
        identity = pp.identity_from(pp.parse_line(ask(port, pp.format_command("ID"))[0]))
        assert identity.serial == "LP1000-0042"
        assert ask(port, b"VOL 500\r\n") == [b"VOL OK nominal=1000 set=500 min=100 unit=uL\r\n"]
        assert ask(port, b"VOL 5000\r\n") == [
            b'VOL ERR RANGE "volume 5000 outside 100-1000 uL"\r\n'
        ]
        assert ask(port, b"DISPENSE\r\n") == [b"DISPENSE OK cycle=1 set=500\r\n"]
        assert ask(port, b"DISPENSE\r\n") == [b"DISPENSE OK cycle=2 set=500\r\n"]
        assert [r[1] for r in received] == [500.0, 500.0]  # the sink got each dispense
        assert ask(port, b"CNT\r\n") == [b"CNT OK total=2 service=2\r\n"]
        with server.lock:
            device.drop()
        assert port.readline() == b"EVT seq=1 kind=DROP cycle=2\r\n"
        assert ask(port, b"SRV RESET\r\n") == [b"SRV OK total=2 service=0\r\n"]
        assert port.readline() == b"EVT seq=2 kind=SERVICE total=2\r\n"
        assert ask(port, b"EVENTS 0\r\n", 3) == [
            b"EVT seq=1 kind=DROP cycle=2\r\n",
            b"EVT seq=2 kind=SERVICE total=2\r\n",
            b"EVENTS OK count=2 last=2\r\n",
        ]
        assert ask(port, b"BATT\r\n") == [b"BATT OK level=100\r\n"]
        assert ask(port, b"dispense\r\n")[0].startswith(b"ERR SYNTAX ")
        assert ask(port, b"FLY\r\n") == [b'ERR UNKNOWN "no command FLY"\r\n']
        assert ask(port, b"ID 1\r\n") == [b'ID ERR ARG "ID takes no argument"\r\n']


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_pipette_error_state_and_battery(transport):
    clock = ManualClock()
    model = PipetteModel(PipetteSpec())
    model.state.battery_pct = 10.001
    device = SmartPipette(model, random.Random(1))
    with serving(device, transport, clock) as (server, port):
        assert ask(port, b"DISPENSE\r\n") == [b"DISPENSE OK cycle=1 set=1000\r\n"]
        assert port.readline() == b"EVT seq=1 kind=BATTERY level=10\r\n"
        with server.lock:
            device.fail("E07", "motor stall")
        assert port.readline() == b'EVT seq=2 kind=ERROR code=E07 text="motor stall"\r\n'
        assert ask(port, b"DISPENSE\r\n") == [
            b'DISPENSE ERR BUSY "device error E07; service needed"\r\n'
        ]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_environment_sensor(transport):
    clock = ManualClock()
    device = EnvironmentSensor(EnvironmentModel(), random.Random(1), serial="ENV-7")
    with serving(device, transport, clock) as (_, port):
        identity = pp.identity_from(pp.parse_line(ask(port, b"ID\r\n")[0]))
        assert identity.serial == "ENV-7"
        conditions = conditions_from(pp.parse_line(ask(port, b"MEAS\r\n")[0]))
        assert abs(conditions.air_temp_c - 21.5) < 0.2
        assert abs(conditions.pressure_kpa - 101.3) < 0.05
        assert ask(port, b"MEAS 1\r\n")[0].startswith(b"MEAS ERR ARG")
        assert ask(port, b"meas\r\n")[0].startswith(b"ERR SYNTAX")


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_barcode_scanner(transport):
    clock = ManualClock()
    device = BarcodeScanner(codes=("LC1|LabCal|LP-10|LP10-00001", "4006381333931"), every_s=30.0)
    with serving(device, transport, clock) as (server, port):
        port.write(b"anything\r\n")  # a scanner ignores the host
        assert silent_for(port) == b""
        with server.lock:
            device.scan("LP1000-0001")
        assert parse_scan(port.readline()) == "LP1000-0001"
        clock.advance(1.0)  # arms the periodic scan
        clock.advance(30.0)
        assert port.readline() == b"LC1|LabCal|LP-10|LP10-00001\r\n"
        clock.advance(30.0)
        assert port.readline() == b"4006381333931\r\n"
