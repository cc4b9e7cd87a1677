"""A&D standard format over TCP (pyserial socket://): data lines, commands, errors."""

from __future__ import annotations

import random

import pytest

from labcal_sim.devices.aandd import AndBalance
from labcal_sim.ports import ManualClock

from .support import ask, quiet_balance, serving, silent_for


@pytest.fixture
def ad():
    clock = ManualClock(10.0)
    model = quiet_balance(clock)
    model.place(123_450.0, clock.now())
    clock.advance(2.0)
    with serving(AndBalance(model, random.Random(5)), "tcp", clock) as (server, port):
        yield clock, model, server, port


@pytest.mark.parametrize(
    ("command", "reply"),
    [
        (b"Q", b"ST,+00123.45  g"),
        (b"SI", b"ST,+00123.45  g"),
        (b"S", b"ST,+00123.45  g"),
        (b"?SN", b"SN,B123456789"),
        (b"?TN", b"TN,XPR205DU"),
        (b"?ID", b"ID,LABCAL01"),
        (b"?PT", b"ST,PT,+00000.00  g"),
        (b"XX", b"EC,E1"),
        (b"q", b"EC,E1"),
    ],
)
def test_command_replies(ad, command, reply):
    _, _, _, port = ad
    assert ask(port, command + b"\r\n") == [reply + b"\r\n"]


def test_unstable_overload_and_tare(ad):
    clock, model, server, port = ad
    with server.lock:
        model.place(500.0, clock.now())
    (line,) = ask(port, b"Q\r\n")
    assert line.startswith(b"US,+")
    port.write(b"S\r\n")
    assert silent_for(port) == b""
    clock.advance(1.0)
    assert port.readline() == b"ST,+00123.95  g\r\n"
    port.write(b"T\r\n")
    assert silent_for(port) == b""
    assert ask(port, b"Q\r\n") == [b"ST,+00000.00  g\r\n"]
    with server.lock:
        model.place(200_000.0, clock.now())
    assert ask(port, b"Q\r\n") == [b"OL,+9999999E+19\r\n"]


def test_sir_stream_and_cancel(ad):
    clock, _, _, port = ad
    assert ask(port, b"SIR\r\n") == [b"ST,+00123.45  g\r\n"]
    clock.advance(0.1)
    assert port.readline() == b"ST,+00123.45  g\r\n"
    port.write(b"C\r\n")
    assert silent_for(port) == b""
    clock.advance(1.0)
    assert silent_for(port) == b""


def test_fine_balance_drops_decimals_that_do_not_fit_the_field():
    from labcal_sim.physics.balance import BalanceModel, BalanceSpec

    clock = ManualClock()
    model = BalanceModel(BalanceSpec.for_class("0.01mg", noise_mg=0.0), clock.now())
    device = AndBalance(model, random.Random(1))
    model.place(12_345.678, clock.now())
    clock.advance(5.0)
    assert device.receive(b"Q\r\n", clock.now()) == [b"ST,+12.34568  g\r\n"]
    model.place(100_000.0, clock.now())
    clock.advance(5.0)
    assert device.receive(b"Q\r\n", clock.now()) == [b"ST,+112.3457  g\r\n"]
