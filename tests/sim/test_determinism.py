"""Same seed, same script → same bytes, however often the serve loop polls in between."""

from __future__ import annotations

import random

import pytest

from labcal_sim.devices.aandd import AndBalance
from labcal_sim.devices.mtsics import MtSicsBalance
from labcal_sim.physics.balance import BalanceModel, BalanceSpec

SCRIPTS = {
    MtSicsBalance: [b"SI\r\n", b"S\r\n", b"T\r\n", b"Z\r\n", b"S\r\n", b"SI\r\n"],
    AndBalance: [b"Q\r\n", b"S\r\n", b"T\r\n", b"S\r\n", b"Q\r\n"],
}


def _run(device_type: type, seed: int, polls_per_step: int) -> bytes:
    model = BalanceModel(BalanceSpec.for_class("0.01mg", settle_s=1.0), 0.0)
    device = device_type(model, random.Random(seed))
    out = bytearray()
    now = 0.0
    for i, command in enumerate(SCRIPTS[device_type]):
        model.place(1_000.0 * (i + 1), now)  # a new load before each command: S must wait
        for line in device.receive(command, now):
            out.extend(line)
        for _step in range(1, 41):  # 2 s in 50 ms steps; extra polls in between
            now += 0.05
            for _ in range(polls_per_step):
                for line in device.poll(now):
                    out.extend(line)
    return bytes(out)


@pytest.mark.parametrize("device_type", list(SCRIPTS), ids=lambda t: t.__name__)
def test_polling_frequency_does_not_change_the_output(device_type):
    once = _run(device_type, seed=3, polls_per_step=1)
    silent = 1 if device_type is AndBalance else 0  # A&D T sends nothing back
    assert once.count(b"\r\n") == len(SCRIPTS[device_type]) - silent
    assert _run(device_type, seed=3, polls_per_step=7) == once
    assert _run(device_type, seed=4, polls_per_step=1) != once
