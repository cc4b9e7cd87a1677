"""Each fault switch, observed by a pyserial client over a real pty or TCP."""

from __future__ import annotations

import os
import random
import socket
import time

import pytest
import serial

from labcal_sim.devices.mtsics import MtSicsBalance
from labcal_sim.devices.pipette import SmartPipette
from labcal_sim.faults import FaultSwitches, shape
from labcal_sim.physics.pipette import PipetteModel, PipetteSpec
from labcal_sim.ports import ManualClock
from labcal_sim.station import build_balance
from labcal_sim.station_config import BalanceConfig

from .support import TRANSPORTS, ask, open_port, quiet_balance, serving, silent_for

REPLY = b'I4 A "B123456789"\r\n'


def _balance(clock: ManualClock) -> MtSicsBalance:
    model = quiet_balance(clock)
    model.place(100_000.0, clock.now())
    clock.advance(2.0)
    return MtSicsBalance(model, random.Random(1))


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_garbage_bytes_precede_the_line(transport):
    clock = ManualClock()
    faults = FaultSwitches(garbage=1.0)
    with serving(_balance(clock), transport, clock, faults=faults) as (_, port):
        port.write(b"I4\r\n")
        line = port.readline()
        assert line.endswith(REPLY)
        garbage = line[: -len(REPLY)]
        assert garbage
        assert all(b >= 0x80 for b in garbage)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_dropped_lines_are_never_sent_but_the_command_ran(transport):
    clock = ManualClock()
    device = SmartPipette(PipetteModel(PipetteSpec()), random.Random(1))
    with serving(device, transport, clock, faults=FaultSwitches(drop=1.0)) as (server, port):
        port.write(b"DISPENSE\r\n")
        assert silent_for(port) == b""
        server.set_faults(FaultSwitches())
        assert ask(port, b"CNT\r\n") == [b"CNT OK total=1 service=1\r\n"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_truncated_lines_lose_their_end(transport):
    clock = ManualClock()
    with serving(_balance(clock), transport, clock, faults=FaultSwitches(truncate=1.0)) as (
        _,
        port,
    ):
        port.write(b"I4\r\n")
        got = silent_for(port)
        assert REPLY.startswith(got)
        assert len(got) < len(REPLY) - 2  # at least the terminator and one character are gone


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_silence(transport):
    clock = ManualClock()
    with serving(_balance(clock), transport, clock, faults=FaultSwitches(silent=True)) as (
        server,
        port,
    ):
        port.write(b"I4\r\n")
        assert silent_for(port) == b""
        server.set_faults(FaultSwitches())
        assert ask(port, b"I4\r\n") == [REPLY]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_slow_replies_leave_after_the_delay(transport):
    clock = ManualClock()
    with serving(_balance(clock), transport, clock, faults=FaultSwitches(delay_s=2.0)) as (
        _,
        port,
    ):
        port.write(b"I4\r\n")
        assert silent_for(port) == b""
        clock.advance(1.0)
        assert silent_for(port) == b""
        clock.advance(1.0)
        assert port.readline() == REPLY


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_permanently_unstable_balance(transport):
    clock = ManualClock()
    config = BalanceConfig(faults=FaultSwitches(unstable=True), settle_s=0.5)
    device = build_balance(config, random.Random(2), clock.now())
    clock.advance(60.0)
    with serving(device, transport, clock) as (_, port):
        for _ in range(5):
            assert ask(port, b"SI\r\n")[0].startswith(b"S D ")
        port.write(b"S\r\n")
        assert silent_for(port) == b""
        clock.advance(5.0)
        assert port.readline() == b"S I\r\n"


def _talk(port: serial.Serial) -> None:
    port.write(b"I4\r\n")
    port.read(1)


def _wait_for(predicate, what: str, limit_s: float = 10.0) -> None:
    deadline = time.monotonic() + limit_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def test_pty_hot_plug_at_a_stable_path(tmp_path):
    clock = ManualClock()
    link = tmp_path / "by-id" / "usb-LabCal_Sim_B123456789-if00"
    with serving(_balance(clock), "pty", clock, link=str(link)) as (server, port):
        assert server.address == str(link)
        first_target = os.readlink(link)
        assert ask(port, b"I4\r\n") == [REPLY]
        server.unplug(reappear_after_s=5.0)
        assert not link.exists()
        with pytest.raises(serial.SerialException):
            _talk(port)
        clock.advance(5.0)
        _wait_for(link.exists, "the symlink to reappear")
        assert os.path.exists(os.readlink(link))  # a new, live pty behind the same path
        assert first_target.startswith("/dev/pts/")
        again = open_port(str(link))
        try:
            assert ask(again, b"I4\r\n") == [REPLY]
        finally:
            again.close()


def test_tcp_disconnect_and_reappear():
    clock = ManualClock()
    with serving(_balance(clock), "tcp", clock) as (server, port):
        assert ask(port, b"I4\r\n") == [REPLY]
        server.unplug(reappear_after_s=5.0)
        with pytest.raises(serial.SerialException):
            _talk(port)  # the device closed the connection
        host, port_number = server.address.removeprefix("socket://").rsplit(":", 1)

        def listening() -> bool:
            # a raw socket: pyserial leaks its socket when a connection is refused
            try:
                socket.create_connection((host, int(port_number)), timeout=1).close()
            except ConnectionRefusedError:
                return False
            return True

        assert not listening()  # nobody listens while unplugged
        clock.advance(5.0)
        _wait_for(listening, "the TCP port to listen again")
        again = open_port(server.address)
        try:
            assert ask(again, b"I4\r\n") == [REPLY]
        finally:
            again.close()


def test_fault_specs_parse_and_refuse_nonsense():
    faults = FaultSwitches.parse(["garbage=0.1", "silent", "delay=2", "unstable=no"])
    assert faults == FaultSwitches(garbage=0.1, silent=True, delay_s=2.0, unstable=False)
    for bad in (["explode"], ["drop=lots"], ["drop=1.5"], ["delay=-1"]):
        with pytest.raises(ValueError, match="fault"):
            FaultSwitches.parse(bad)


def test_fault_probabilities_are_per_line_and_reproducible():
    lines = [b"S S     100.00 g\r\n"] * 2000
    first = shape(lines, FaultSwitches(drop=0.25), random.Random(9))
    again = shape(lines, FaultSwitches(drop=0.25), random.Random(9))
    assert first == again
    kept = first.count(b"\r\n")
    assert 1300 < kept < 1700  # about 75 % kept
