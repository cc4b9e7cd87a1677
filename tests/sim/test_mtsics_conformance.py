"""MT-SICS conformance: each command over a real pty, exact reply forms (protocols.md §1)."""

from __future__ import annotations

import random
import re

import pytest

from labcal_sim.devices.mtsics import MtSicsBalance
from labcal_sim.ports import ManualClock

from .support import ask, quiet_balance, serving, silent_for

LOAD_MG = 100_000.0  # 100 g on the pan


@pytest.fixture
def loaded():
    clock = ManualClock(1000.0)
    model = quiet_balance(clock)
    model.place(LOAD_MG, clock.now())
    clock.advance(2.0)  # settled
    device = MtSicsBalance(model, random.Random(1), stable_timeout_s=5.0)
    with serving(device, "pty", clock) as (server, port):
        yield clock, model, server, port


CONFORMANCE = [
    (b"@", [b'I4 A "B123456789"']),
    (b"I1", [b'I1 A "0123" "2.00" "2.20" "1.00" "1.50"']),
    (b"I2", [b'I2 A "XPR205DU Excellence 220.00 g"']),
    (b"I3", [b'I3 A "3.10 10.28.0.493.142"']),
    (b"I4", [b'I4 A "B123456789"']),
    (b"I10", [b'I10 A "LabCal sim"']),
    (b"I11", [b'I11 A "XPR205DU"']),
    (b"S", [b"S S     100.00 g"]),
    (b"SI", [b"S S     100.00 g"]),
    (b"Z", [b"Z +"]),  # 100 g is outside the ±2 % zero range
    (b"ZI", [b"ZI +"]),
    (b"TA", [b"TA A       0.00 g"]),
    (b"TAC", [b"TAC A"]),
    (b"C", [b"C B", b"C A"]),
    (b"M28", [b"M28 A 1 22.5"]),
    (b"si", [b"ES"]),  # lower case is not a command on a real balance
    (b"s", [b"ES"]),
    (b"XYZ", [b"ES"]),
    (b"I4 1", [b"EL"]),  # a parameter for a command that takes none
    (b"TA abc g", [b"TA L"]),
    (b'I10 "an ID that is far too long"', [b"I10 L"]),
]


@pytest.mark.parametrize(
    ("command", "expected"), CONFORMANCE, ids=[c.decode() for c, _ in CONFORMANCE]
)
def test_command_reply_form(loaded, command, expected):
    _, _, _, port = loaded
    assert ask(port, command + b"\r\n", len(expected)) == [e + b"\r\n" for e in expected]


def test_tare_then_net_then_clear(loaded):
    _, _, _, port = loaded
    assert ask(port, b"T\r\n") == [b"T S     100.00 g\r\n"]
    assert ask(port, b"SI\r\n") == [b"S S       0.00 g\r\n"]
    assert ask(port, b"TA\r\n") == [b"TA A     100.00 g\r\n"]
    assert ask(port, b"TAC\r\n") == [b"TAC A\r\n"]
    assert ask(port, b"S\r\n") == [b"S S     100.00 g\r\n"]


def test_tare_immediately_and_preset(loaded):
    _, _, _, port = loaded
    assert ask(port, b"TI\r\n") == [b"TI S     100.00 g\r\n"]
    assert ask(port, b"TA 10.00 g\r\n") == [b"TA A      10.00 g\r\n"]
    assert ask(port, b"SI\r\n") == [b"S S      90.00 g\r\n"]


def test_zero_within_range(loaded):
    clock, model, server, port = loaded
    with server.lock:
        model.place(-LOAD_MG + 1000.0, clock.now())  # 1 g left, inside the zero range
    clock.advance(2.0)
    assert ask(port, b"Z\r\n") == [b"Z A\r\n"]
    assert ask(port, b"SI\r\n") == [b"S S       0.00 g\r\n"]
    assert ask(port, b"ZI\r\n") == [b"ZI S\r\n"]


def test_settling_gives_dynamic_values_and_s_waits_for_stability(loaded):
    clock, model, server, port = loaded
    with server.lock:
        model.place(20_000.0, clock.now())
    clock.advance(0.2)
    (dynamic,) = ask(port, b"SI\r\n")
    assert re.fullmatch(rb"S D +-?\d+\.\d{2} g\r\n", dynamic)
    port.write(b"S\r\n")
    assert silent_for(port) == b""  # S holds its reply until the balance is stable
    clock.advance(1.0)
    assert port.readline() == b"S S     120.00 g\r\n"


def test_s_times_out_with_status_i_when_never_stable(loaded):
    clock, model, server, port = loaded
    with server.lock:
        model.unstable = True
    for command in (b"S", b"Z", b"T"):
        port.write(command + b"\r\n")
        assert silent_for(port) == b""
        clock.advance(5.0)
        assert port.readline() == command + b" I\r\n"


def test_overload_and_underload(loaded):
    clock, model, server, port = loaded
    with server.lock:
        model.place(150_000.0, clock.now())  # 250 g on a 220 g balance
    assert ask(port, b"SI\r\n") == [b"S +\r\n"]
    assert ask(port, b"S\r\n") == [b"S +\r\n"]
    assert ask(port, b"T\r\n") == [b"T +\r\n"]
    with server.lock:
        model.place(-150_000.0, clock.now())
        model.set_pan(False, clock.now())
    assert ask(port, b"SI\r\n") == [b"S -\r\n"]
    assert ask(port, b"TI\r\n") == [b"TI -\r\n"]


def test_device_id_can_be_set(loaded):
    _, _, _, port = loaded
    assert ask(port, b'I10 "Bench 3"\r\n') == [b"I10 A\r\n"]
    assert ask(port, b"I10\r\n") == [b'I10 A "Bench 3"\r\n']


def test_sir_streams_until_cancelled(loaded):
    clock, _, _, port = loaded
    assert ask(port, b"SIR\r\n") == [b"S S     100.00 g\r\n"]
    for _ in range(3):
        clock.advance(0.1)
        assert port.readline() == b"S S     100.00 g\r\n"
    assert ask(port, b"C\r\n", 2) == [b"C B\r\n", b"C A\r\n"]
    clock.advance(1.0)
    assert silent_for(port) == b""


def test_reset_cancels_sir_and_pending_commands(loaded):
    clock, model, server, port = loaded
    ask(port, b"SIR\r\n")
    with server.lock:
        model.unstable = True
    port.write(b"S\r\n")
    assert ask(port, b"@\r\n") == [b'I4 A "B123456789"\r\n']
    clock.advance(10.0)
    assert silent_for(port) == b""


def test_readability_classes_print_their_decimals():
    from labcal_sim.physics.balance import BalanceModel, BalanceSpec

    for readability, places in (("0.001mg", 6), ("0.01mg", 5), ("0.1mg", 4)):
        spec = BalanceSpec.for_class(readability, noise_mg=0.0)
        model = BalanceModel(spec, 0.0)
        model.place(1234.5678, 0.0)
        reading = model.net_reading(10.0, random.Random(0))
        assert reading.value is not None
        assert -reading.value.as_tuple().exponent == places
