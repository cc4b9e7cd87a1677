"""What each device answers to bad input: over-long lines, binary noise, empty lines."""

from __future__ import annotations

import random

import pytest

from labcal_sim.devices.aandd import AndBalance
from labcal_sim.devices.mtsics import MtSicsBalance
from labcal_sim.devices.pipette import SmartPipette
from labcal_sim.devices.sensor import EnvironmentSensor
from labcal_sim.physics.balance import BalanceModel, BalanceSpec
from labcal_sim.physics.environment import EnvironmentModel
from labcal_sim.physics.pipette import PipetteModel, PipetteSpec


def _devices():
    rng = random.Random(1)
    balance = BalanceModel(BalanceSpec(), 0.0)
    return {
        "mt-sics": (MtSicsBalance(balance, rng), b"ES\r\n", b"I4\r\n"),
        "and": (AndBalance(balance, rng), b"EC,E1\r\n", b"?SN\r\n"),
        "pipette": (
            SmartPipette(PipetteModel(PipetteSpec()), rng),
            b'ERR SYNTAX "line too long"\r\n',
            b"CNT\r\n",
        ),
        "sensor": (
            EnvironmentSensor(EnvironmentModel(), rng),
            b'ERR SYNTAX "line too long"\r\n',
            b"ID\r\n",
        ),
    }


@pytest.mark.parametrize("name", ["mt-sics", "and", "pipette", "sensor"])
def test_overlong_line_gets_one_error_and_the_device_resynchronises(name):
    device, error, probe = _devices()[name]
    out = device.receive(b"A" * 1000, 1.0)
    out += device.receive(b"B" * 1000 + b"\r\n", 1.0)
    assert out == [error]  # one error per over-long line, not one per chunk
    (reply,) = device.receive(probe, 1.0)  # the next command is understood again
    assert reply != error


@pytest.mark.parametrize("name", ["mt-sics", "and", "pipette", "sensor"])
def test_binary_noise_line_is_an_error_and_empty_lines_are_ignored(name):
    device, error, _ = _devices()[name]
    (reply,) = device.receive(b"\x00\xff\x81\r\n", 1.0)
    assert reply.startswith(error.split(b" ")[0].rstrip(b"\r\n"))
    assert device.receive(b"\r\n\r\n\n", 1.0) == []


def test_overlong_counting_spans_chunks_and_terminators():
    from labcal_sim.devices.base import count_overlong

    assert count_overlong(0, b"A" * 256, 256) == (0, 256)  # exactly at the limit: fine
    assert count_overlong(256, b"A", 256) == (1, 257)  # crosses in the next chunk
    assert count_overlong(250, b"A" * 10 + b"\r\n" + b"B" * 300 + b"\n" + b"C" * 5, 256) == (2, 5)


def test_dispense_refused_while_it_cannot_act_and_service_clears_the_error():
    model = PipetteModel(PipetteSpec())
    pipette = SmartPipette(model, random.Random(1))
    pipette.fail("E07", "motor stall")
    assert pipette.receive(b"DISPENSE\r\n", 1.0) == [
        b'DISPENSE ERR BUSY "device error E07; service needed"\r\n'
    ]
    assert pipette.receive(b"SRV RESET\r\n", 2.0) == [b"SRV OK total=0 service=0\r\n"]
    assert pipette.receive(b"DISPENSE\r\n", 3.0) == [b"DISPENSE OK cycle=1 set=1000\r\n"]
    model.state.battery_pct = 0.0
    assert pipette.receive(b"DISPENSE\r\n", 4.0) == [b'DISPENSE ERR BUSY "battery empty"\r\n']
    assert model.state.total == 1  # refused cycles are not counted
    assert pipette.receive(b"SRV\r\n", 5.0) == [b'SRV ERR ARG "use SRV RESET"\r\n']
    assert pipette.receive(b"VOL 1 2\r\n", 5.0) == [
        b'VOL ERR ARG "VOL takes at most one argument"\r\n'
    ]
    assert pipette.receive(b"VOL abc\r\n", 5.0) == [b'VOL ERR ARG "abc is not a number"\r\n']
    assert pipette.receive(b"EVENTS x\r\n", 5.0) == [b'EVENTS ERR ARG "use EVENTS <after_seq>"\r\n']
    assert pipette.receive(b"DISPENSE 5\r\n", 5.0) == [
        b'DISPENSE ERR ARG "DISPENSE takes no argument"\r\n'
    ]
