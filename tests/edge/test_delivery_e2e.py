"""Done-when: firmware-sim on real ptys, a private Mosquitto stopped for 30 s mid-stream, the agent
kill -9'd mid-run and restarted — every reading it committed arrives at a subscriber.
Duplicates are allowed (same message id); a sequence number never carries two different ids."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from labcal_edge.outbox import Outbox
from labcal_shared.contracts import Reading

from .agent_config import agent_toml
from .broker import PrivateBroker
from .sim import server, sim_station
from .subscriber import Collector

COMMITTED = re.compile(r"reading committed seq=(\d+) id=([0-9a-f-]{36})")
OUTAGE_S = 30.0

STATION = """
[balance]
protocol = "mt-sics"
serial = "B777"
settle_s = 0.1
[[pipettes]]
serial = "P-1"
[[pipettes]]
serial = "P-2"
"""


def start_agent(config: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "labcal_edge.cli", "run", "--config", str(config)],
            stdout=out,
            stderr=out,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )


def committed(log: Path) -> dict[str, int]:
    return {m[2]: int(m[1]) for m in COMMITTED.finditer(log.read_text(errors="replace"))}


def wait_until(predicate, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.slow
def test_no_reading_lost_through_broker_outage_and_kill_9(tmp_path: Path, tenant_id: str) -> None:
    broker = PrivateBroker(tmp_path / "broker")
    broker.start()
    log = tmp_path / "agent.log"
    with sim_station(STATION, tmp_path / "dev") as station:
        config = agent_toml(
            tmp_path,
            tenant_id,
            broker.url,
            balance=server(station, "balance").address,
            balance_poll_s=0.05,
            pipettes=tuple(s.address for s in station.servers if s.device.kind == "pipette"),
        )
        collector = Collector(broker.url, tenant_id, kind="reading").start()
        agent = start_agent(config, log)
        try:
            assert wait_until(lambda: len(collector.snapshot()) >= 20, 20), log.read_text()
            broker.stop()  # 30 s outage starts
            outage_started = time.monotonic()
            time.sleep(OUTAGE_S / 2)
            agent.send_signal(signal.SIGKILL)  # mid-run, mid-outage
            agent.wait()
            during = len(committed(log))
            agent = start_agent(config, log)  # same outbox: resends what was never acked
            assert wait_until(lambda: len(committed(log)) > during + 20, 10)
            time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - outage_started)))
            broker.start()
            # the backlog drains while the stream goes on: everything committed up to now arrives
            so_far = set(committed(log))
            assert wait_until(
                lambda: {str(e.message_id) for e in collector.snapshot()} >= so_far, 30
            ), f"{len(so_far - {str(e.message_id) for e in collector.snapshot()})} not delivered"
            agent.send_signal(signal.SIGKILL)  # again, now while connected and publishing
            agent.wait()
            before = len(committed(log))
            agent = start_agent(config, log)
            assert wait_until(lambda: len(committed(log)) > before + 20, 10)
            agent.send_signal(signal.SIGTERM)  # clean shutdown
            assert agent.wait(timeout=30) == 0
            expected = committed(log)
            # what was committed in the last instants is delivered or still in the outbox
            wait_until(
                lambda: {str(e.message_id) for e in collector.snapshot()} >= set(expected), 5
            )
        finally:
            if agent.poll() is None:
                agent.kill()
                agent.wait()
            collector.stop()
            broker.stop()
    got = collector.snapshot()
    ids = {str(e.message_id) for e in got}
    queued = {m.message_id for m in Outbox(tmp_path / "data" / "outbox.sqlite3").peek(-1, 10**6)}
    missing = set(expected) - ids - queued
    assert not missing, f"{len(missing)} of {len(expected)} committed readings were lost"
    seq_to_id: dict[int, str] = {}
    for env in got:
        assert isinstance(env.payload, Reading)
        assert seq_to_id.setdefault(env.seq, str(env.message_id)) == str(env.message_id)
    duplicates = len(got) - len(ids)
    print(f"{len(expected)} readings committed, all delivered; {duplicates} duplicate(s)")
    assert len(expected) > 200  # the stream really ran through the outage
