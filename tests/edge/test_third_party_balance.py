"""The edge against a third-party MT-SICS balance: mt-sics-emulator from PyPI, on TCP.

The emulator answers ``SI`` with ``SI S …``, answers ``S`` at once with ``S D …`` while a load
settles, and has only a serial number in ``I2``. The agent must still probe the dialect, poll,
take only stable weights when asked for them, and fall back to the configured identity.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from labcal_edge.agent import Agent
from labcal_edge.config import BalanceConfig, load_config
from labcal_edge.drivers.balance import BalanceDriver
from labcal_edge.drivers.garbage import GarbageLog
from labcal_edge.drivers.link import PySerialLink
from labcal_edge.errors import DeviceTimeoutError
from labcal_shared.contracts import Reading, decode
from labcal_shared.protocols import Dialect

from .emulator import Emulator, emulator

GRADUATION_G = Decimal("0.0001")  # profile mt-xs204


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with emulator("mt-xs204") as e:
        yield e


def driver(emu: Emulator, dialect: Dialect | None = None) -> BalanceDriver:
    link = PySerialLink(BalanceConfig(name="emu", port=emu.url, timeout_s=2.0))
    return BalanceDriver(link, GarbageLog("emu"), dialect, timeout_s=2.0)


def test_probes_mt_sics_and_falls_back_to_the_configured_identity(
    emu: Emulator, tmp_path: Path
) -> None:
    config_path = tmp_path / "edge.toml"
    config_path.write_text(
        f'[station]\ntenant = "t-emu"\nid = "st1"\ndata_dir = "{tmp_path / "data"}"\n'
        '[mqtt]\nhost = "127.0.0.1"\nport = 9\n[clock]\nntp = "none"\n'
        f'[[balance]]\nname = "emu"\nport = "{emu.url}"\ntimeout_s = 1.0\npoll_s = 0.1\n'
        'make = "Mettler Toledo"\nmodel = "XS204 (as configured)"\n'
    )
    agent = Agent(load_config(config_path))
    try:
        deadline = time.monotonic() + 10
        while agent.outbox.depth < 4 and time.monotonic() < deadline:
            agent.tick(time.monotonic())
            time.sleep(0.05)
        balance = agent.devices.balances[0]
        assert balance.supervised.available
        assert balance.driver.dialect is Dialect.MT_SICS
        # I2 carries the serial number only: the model is the configured one, I4 gives the serial
        assert balance.driver.identity_fallbacks == 1
        assert balance.ref.model == "XS204 (as configured)"
        assert balance.ref.serial == "B246813579"
        readings = [
            env
            for env in (decode(m.payload, topic=m.topic) for m in agent.outbox.peek(-1, 100))
            if isinstance(env.payload, Reading)
        ]
        assert len(readings) >= 3, "polling the SI S … replies produced no readings"
        assert all(r.payload.value == 0.0 and r.payload.stable for r in readings)
        assert balance.driver.garbage.total == 0
    finally:
        agent.devices.close()
        agent.outbox.close()


def test_weigh_stable_waits_for_a_settled_load(emu: Emulator) -> None:
    bal = driver(emu)
    bal.connect()
    for target in (Decimal("1.0000"), Decimal("1.0998")):
        emu.place(float(target))
        time.sleep(0.2)  # the load lands: the emulator's next ticks see it move
        reading = bal.weigh(stable=True, timeout=15)
        assert reading.stable
        assert reading.value is not None
        assert abs(reading.value - target) <= 2 * GRADUATION_G, reading
    assert bal.unstable_total > 0, "the emulator never answered S D: the test proves nothing"
    bal.link.close()


def test_weigh_stable_gives_up_after_its_timeout(emu: Emulator) -> None:
    bal = driver(emu, Dialect.MT_SICS)
    bal.connect()
    emu.place(150.0)  # 150 g takes ~5 s to settle within 0.1 mg
    time.sleep(0.2)
    started = time.monotonic()
    with pytest.raises(DeviceTimeoutError, match=r"not stable within 0\.8 s"):
        bal.weigh(stable=True, timeout=0.8)
    assert time.monotonic() - started < 3.0
    immediate = bal.weigh(stable=False)
    assert not immediate.stable  # SI still answers, dynamic
    bal.link.close()
