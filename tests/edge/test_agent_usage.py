"""The running agent with a simulated smart pipette: usage reports (change, reset, rollover),
device events, retained status online/offline, and the Last Will after kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from labcal_edge.agent import Agent
from labcal_edge.config import load_config
from labcal_shared.contracts import (
    DeviceEvent,
    DeviceEventType,
    Envelope,
    ReadingBatch,
    StationState,
    StationStatus,
    UsageReport,
    UsageTrigger,
)

from .agent_config import agent_toml
from .sim import server, sim_station
from .subscriber import Collector


def usage(msgs: list[Envelope]) -> list[UsageReport]:
    return [m.payload for m in msgs if isinstance(m.payload, UsageReport)]


def events(msgs: list[Envelope]) -> list[DeviceEventType]:
    return [m.payload.event for m in msgs if isinstance(m.payload, DeviceEvent)]


def statuses(msgs: list[Envelope]) -> list[StationState]:
    return [m.payload.state for m in msgs if isinstance(m.payload, StationStatus)]


def test_usage_reports_events_and_status(tmp_path: Path, mqtt_url: str, tenant_id: str) -> None:
    with sim_station('[[pipettes]]\nserial = "P-U"\n', tmp_path / "dev") as station:
        srv = server(station, "pipette")
        pipette = srv.device

        def on_device(line: bytes) -> None:  # what the operator's thumb does
            with srv.lock:
                pipette.handle_line(line, 0.0)

        config = load_config(agent_toml(tmp_path, tenant_id, mqtt_url, pipettes=(srv.address,)))
        collector = Collector(mqtt_url, tenant_id).start()
        agent = Agent(config)
        stop = threading.Event()
        thread = threading.Thread(target=agent.run, args=(stop,), daemon=True)
        thread.start()
        try:
            got = collector.wait_for(lambda m: len(usage(m)) >= 1)
            first = usage(got)[0]
            assert first.trigger is UsageTrigger.CHANGE
            for _ in range(3):
                on_device(b"DISPENSE")
            got = collector.wait_for(lambda m: len(usage(m)) >= 2)
            assert usage(got)[1].cycles_total == first.cycles_total + 3
            assert usage(got)[1].trigger is UsageTrigger.CHANGE

            on_device(b"SRV RESET")
            got = collector.wait_for(lambda m: len(usage(m)) >= 3)
            assert usage(got)[2].trigger is UsageTrigger.RESET
            assert usage(got)[2].cycles_since_service == 0
            got = collector.wait_for(lambda m: DeviceEventType.SERVICE_RESET in events(m))
            assert DeviceEventType.SERVICE_RESET in events(got)

            with srv.lock:
                pipette.drop()
            got = collector.wait_for(lambda m: DeviceEventType.DROP in events(m))
            assert DeviceEventType.DROP in events(got)

            with srv.lock:
                pipette.model.state.total = 2  # the lifetime counter wrapped
            got = collector.wait_for(lambda m: len(usage(m)) >= 4)
            assert usage(got)[3].trigger is UsageTrigger.ROLLOVER
            assert DeviceEventType.COUNTER_ROLLOVER in events(got)
            assert DeviceEventType.CONNECTED in events(got)
            assert statuses(got)[0] is StationState.ONLINE
        finally:
            stop.set()
            thread.join(15)
        got = collector.wait_for(lambda m: StationState.OFFLINE in statuses(m))
        collector.stop()
    assert statuses(got)[-1] is StationState.OFFLINE  # clean stop says offline itself
    ids = [m.message_id for m in got if not isinstance(m.payload, StationStatus)]
    assert len(ids) == len(set(ids))


def test_last_will_marks_the_station_offline_after_kill_9(
    tmp_path: Path, mqtt_url: str, tenant_id: str
) -> None:
    config = agent_toml(tmp_path, tenant_id, mqtt_url)
    collector = Collector(mqtt_url, tenant_id, kind="status").start()
    agent = subprocess.Popen(
        [sys.executable, "-m", "labcal_edge.cli", "run", "--config", str(config)],
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        got = collector.wait_for(lambda m: StationState.ONLINE in statuses(m))
        assert StationState.ONLINE in statuses(got)
        time.sleep(0.2)
        agent.send_signal(signal.SIGKILL)
        agent.wait()
        got = collector.wait_for(lambda m: StationState.OFFLINE in statuses(m))
        assert statuses(got)[-1] is StationState.OFFLINE  # published by the broker: the Will
    finally:
        if agent.poll() is None:
            agent.kill()
            agent.wait()
        collector.stop()


def test_service_reset_while_the_agent_was_stopped_is_recognised(
    tmp_path: Path, mqtt_url: str, tenant_id: str
) -> None:
    with sim_station('[[pipettes]]\nserial = "P-R"\n', tmp_path / "dev") as station:
        srv = server(station, "pipette")
        config = load_config(agent_toml(tmp_path, tenant_id, mqtt_url, pipettes=(srv.address,)))
        collector = Collector(mqtt_url, tenant_id, kind="usage").start()
        try:
            with srv.lock:  # some use before the first report
                for _ in range(3):
                    srv.device.handle_line(b"DISPENSE", 0.0)
            for step in ("before", "after"):
                if step == "after":
                    with srv.lock:  # serviced while no agent was running
                        for _ in range(4):
                            srv.device.handle_line(b"DISPENSE", 0.0)
                        srv.device.handle_line(b"SRV RESET", 0.0)
                agent = Agent(config)
                stop = threading.Event()
                thread = threading.Thread(target=agent.run, args=(stop,), daemon=True)
                thread.start()
                want = 1 if step == "before" else 2
                got = collector.wait_for(lambda m, n=want: len(usage(m)) >= n)
                stop.set()
                thread.join(15)
        finally:
            collector.stop()
    reports = usage(got)
    assert [r.trigger for r in reports] == [UsageTrigger.CHANGE, UsageTrigger.RESET]
    assert reports[1].cycles_total == reports[0].cycles_total + 4
    assert reports[1].cycles_since_service == 0


def test_balance_readings_in_batches(tmp_path: Path, mqtt_url: str, tenant_id: str) -> None:
    """``[[balance]] batch = 4``: one ``reading_batch`` message per 4 polled values."""
    toml = '[balance]\nprotocol = "mt-sics"\nserial = "B-BA"\nsettle_s = 0.05\nvessel_g = 10\n'
    with sim_station(toml, tmp_path / "dev") as station:
        balance = server(station, "balance")
        config = load_config(
            agent_toml(
                tmp_path,
                tenant_id,
                mqtt_url,
                balance=balance.address,
                balance_poll_s=0.05,
                balance_batch=4,
            )
        )
        collector = Collector(mqtt_url, tenant_id, kind="reading").start()
        agent = Agent(config)
        stop = threading.Event()
        thread = threading.Thread(target=agent.run, args=(stop,), daemon=True)
        thread.start()
        try:
            got = collector.wait_for(lambda m: len(m) >= 3)
        finally:
            stop.set()
            thread.join(10)
            collector.stop()
    assert all(isinstance(m.payload, ReadingBatch) for m in got)
    for m in got:
        assert isinstance(m.payload, ReadingBatch)
        assert len(m.payload.readings) == 4
        assert all(r["unit"] == "g" and r["device_time"] is not None for r in m.payload.readings)
        assert m.device is not None
        assert m.device.serial == "B-BA"
    assert [m.seq for m in got] == sorted(m.seq for m in got)
