"""Simulator test helpers: serve a device on a real pty or TCP port, open it with pyserial."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager

import serial

from labcal_sim.devices.base import Device
from labcal_sim.faults import FaultSwitches
from labcal_sim.physics.balance import BalanceModel, BalanceSpec
from labcal_sim.ports import ManualClock
from labcal_sim.serve import DeviceServer
from labcal_sim.station import make_endpoint

TRANSPORTS = ("pty", "tcp")
REPLY_TIMEOUT_S = 10.0  # upper bound for a reply that must come (the machine is shared)
ABSENCE_S = 0.4  # how long we listen to conclude that nothing was sent


def open_port(address: str, timeout: float = REPLY_TIMEOUT_S) -> serial.Serial:
    """Open a served device as an edge would (parity N: ptys do not implement parity)."""
    return serial.serial_for_url(address, baudrate=9600, parity="N", timeout=timeout)


def close_port(port: serial.Serial) -> None:
    """Close a port; works around pyserial 3.5 leaking a ``socket://`` socket whose peer hung up
    (its ``close`` calls ``shutdown``, which raises ENOTCONN, and then skips ``close``)."""
    sock = getattr(port, "_socket", None)
    if sock is not None:
        sock.close()
    port.close()


@contextmanager
def serving(
    device: Device,
    transport: str,
    clock: ManualClock,
    *,
    faults: FaultSwitches | None = None,
    link: str | None = None,
    seed: int = 7,
) -> Iterator[tuple[DeviceServer, serial.Serial]]:
    from pathlib import Path

    endpoint = make_endpoint(transport, Path(link) if link else None)
    server = DeviceServer(device, endpoint, clock, random.Random(seed), faults=faults).start()
    port = open_port(server.address)
    try:
        yield server, port
    finally:
        close_port(port)
        server.stop()
    assert server.errors == [], server.errors  # no device raised inside the serve loop


def ask(port: serial.Serial, command: bytes, lines: int = 1) -> list[bytes]:
    """Send one command and read ``lines`` reply lines (each must arrive)."""
    port.write(command)
    replies = [port.readline() for _ in range(lines)]
    for reply in replies:
        assert reply.endswith(b"\r\n"), f"no complete reply to {command!r}: {replies!r}"
    return replies


def silent_for(port: serial.Serial, seconds: float = ABSENCE_S) -> bytes:
    """Whatever arrives within ``seconds`` (expected: nothing)."""
    old = port.timeout
    port.timeout = seconds
    try:
        return port.read(1024)
    finally:
        port.timeout = old


def quiet_balance(
    clock: ManualClock, readability_mg: float = 10.0, *, settle_s: float = 1.0, **kw: float
) -> BalanceModel:
    """A noiseless balance, so replies are exact; readability 10 mg prints ``100.00 g``."""
    spec = BalanceSpec(
        readability_mg=readability_mg, noise_mg=0.0, settle_s=settle_s, capacity_g=220.0, **kw
    )
    return BalanceModel(spec, clock.now())
