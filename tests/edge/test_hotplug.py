"""A balance sends garbage, disappears and comes back: clear logs, no crash, readings resume."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import pytest

from labcal_edge.agent import Agent
from labcal_edge.config import load_config
from labcal_sim.faults import FaultSwitches

from .agent_config import agent_toml
from .sim import server, sim_station


def count(caplog: pytest.LogCaptureFixture, text: str) -> int:
    return sum(text in r.getMessage() for r in caplog.records)


def wait_for(predicate, timeout: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.slow
def test_garbage_unplug_and_return(
    tmp_path: Path, mqtt_url: str, tenant_id: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="labcal_edge")
    station_toml = '[balance]\nprotocol = "mt-sics"\nserial = "B-HP"\nsettle_s = 0.05\n'
    with sim_station(station_toml, tmp_path / "dev") as station:
        balance = server(station, "balance")
        config = load_config(
            agent_toml(tmp_path, tenant_id, mqtt_url, balance=balance.address, balance_poll_s=0.05)
        )
        agent = Agent(config)
        stop = threading.Event()
        thread = threading.Thread(target=agent.run, args=(stop,), daemon=True)
        thread.start()
        try:
            readings = lambda: count(caplog, "reading committed")  # noqa: E731
            assert wait_for(lambda: readings() >= 5)

            balance.set_faults(FaultSwitches(garbage=1.0))  # every line garbled
            garbage = agent.devices.balances[0].driver.garbage
            # 3 garbled replies in a row (5 would count as a device failure)
            assert wait_for(lambda: garbage.total >= 3)
            balance.set_faults(FaultSwitches())
            before = readings()
            assert wait_for(lambda: readings() >= before + 5)

            balance.unplug(reappear_after_s=1.5)
            assert wait_for(lambda: count(caplog, "unavailable on") >= 1)
            assert wait_for(lambda: count(caplog, "connected on") >= 2)  # it came back
            before = readings()
            assert wait_for(lambda: readings() >= before + 5)  # readings resumed
            assert thread.is_alive()  # no crash
        finally:
            stop.set()
            thread.join(10)
    garbage_logs = count(caplog, "skipping garbage")
    assert garbage_logs == 1  # once per episode, not once per line
    assert agent.devices.balances[0].driver.garbage.total >= 3  # ... but every line counted
    assert count(caplog, "unavailable on") == 1  # one warning for the outage
    assert count(caplog, "readings resumed") == 1
