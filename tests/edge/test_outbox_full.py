"""A full outbox refuses new messages, never drops committed ones, and accepts again.

Full is either the configured capacity (policies ``refuse`` and ``block``) or the disk refusing
writes: a real full file system, a small tmpfs mounted by the test (skipped where mounting is not
allowed).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from labcal_edge.config import FullPolicy
from labcal_edge.errors import OutboxFullError
from labcal_edge.outbox import Outbox, OutboxMessage


def msg(size: int = 16) -> Callable[[int], OutboxMessage]:
    return lambda seq: OutboxMessage(
        f"id-{seq}", "labcal/v1/t/s/reading", (f"{seq}:".encode() + os.urandom(size))
    )


def stored(box: Outbox) -> list[tuple[int, str, bytes]]:
    return [(m.seq, m.message_id, m.payload) for m in box.peek(-1, 10**6)]


@pytest.mark.parametrize("policy", [FullPolicy.REFUSE, FullPolicy.BLOCK])
def test_at_capacity_new_messages_are_refused_and_accepted_again_after_delivery(
    tmp_path: Path, policy: FullPolicy
) -> None:
    alerts: list[str] = []
    box = Outbox(
        tmp_path / "o.sqlite3",
        capacity=5,
        policy=policy,
        block_timeout_s=0.1,
        on_alert=alerts.append,
    )
    for _ in range(5):
        box.append(msg())
    committed = stored(box)
    for _ in range(3):
        with pytest.raises(OutboxFullError, match="new messages are refused, none stored"):
            box.append(msg())
    assert box.refusing == "capacity"
    assert box.refused_total == 3
    assert stored(box) == committed  # nothing committed was dropped
    refusals = [a for a in alerts if "refused" in a and "accepting" not in a]
    assert len(refusals) == 1  # once per episode, not once per message
    box.ack([0, 1])  # delivered
    assert box.append(msg()) == 5  # no sequence number was used by the refused messages
    assert box.refusing is None
    assert "accepting again" in alerts[-1]
    assert "3 refused" in alerts[-1]
    assert [s for s, _, _ in stored(box)] == [2, 3, 4, 5]
    box.close()


def _mount_tmpfs(size: str) -> Iterator[Path]:
    where = Path(tempfile.mkdtemp(prefix="labcal-full-"))
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as exc:
        where.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {exc}")
    if done.returncode != 0:
        where.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)
        where.rmdir()


@pytest.fixture
def small_disk() -> Iterator[Path]:
    yield from _mount_tmpfs("1m")


def test_a_full_disk_refuses_new_messages_keeps_committed_ones_and_recovers(
    small_disk: Path,
) -> None:
    alerts: list[str] = []
    path = small_disk / "outbox.sqlite3"
    box = Outbox(path, on_alert=alerts.append)  # the default policy: block at capacity
    box.append(msg())
    ballast = small_disk / "ballast"
    ballast.write_bytes(b"\0" * 400_000)
    refusals: list[str] = []
    for _ in range(2000):
        try:
            box.append(msg(2000))
        except OutboxFullError as exc:
            refusals.append(str(exc))
            if len(refusals) == 3:
                break
    assert len(refusals) == 3, "the 1 MB file system never filled up"
    assert all("disk refuses writes" in r for r in refusals)
    assert box.refusing == "disk"
    assert box.refused_total == 3
    committed = stored(box)
    assert len(committed) == box.depth > 10
    assert [s for s, _, _ in committed] == list(range(len(committed)))
    assert len([a for a in alerts if "disk refuses writes" in a]) == 1
    with pytest.raises(OutboxFullError, match="no sequence number"):
        box.reserve_seq()  # the station status cannot be numbered either: refused, not reused

    ballast.unlink()  # the operator frees space
    seq = box.append(msg())
    assert seq == len(committed)
    assert box.refusing is None
    assert "accepting again (disk freed) after 3 refused" in alerts[-1]
    box.close()
    reopened = Outbox(path)
    try:
        assert stored(reopened)[:-1] == committed  # all committed messages survived
        assert reopened.refused_total == 3  # the refusals counted while full were saved later
    finally:
        reopened.close()


def test_a_full_disk_does_not_stop_delivery_of_what_was_committed(
    small_disk: Path, mqtt_url: str, tenant_id: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The publisher keeps delivering (and survives a status it cannot number) while full."""
    from labcal_edge.emitter import Emitter
    from labcal_edge.messages import StationIdentity
    from labcal_edge.ntp import FixedProbe
    from labcal_edge.publisher import Publisher

    from .subscriber import Collector
    from .test_publisher import mqtt_config, readings, running, status_builder

    identity = StationIdentity(tenant_id, "st1")
    box = Outbox(small_disk / "outbox.sqlite3")
    emitter = Emitter(identity, box, FixedProbe(True))
    sent = readings(emitter, 20)
    ballast = small_disk / "ballast"
    fd = os.open(ballast, os.O_WRONLY | os.O_CREAT)
    try:  # fill the file system to the last byte
        while os.write(fd, b"\0" * 4096):
            pass
    except OSError:
        pass
    finally:
        os.close(fd)
    with pytest.raises(OutboxFullError, match="disk refuses writes"):
        readings(emitter, 50)
    collector = Collector(mqtt_url, tenant_id, kind="reading").start()
    try:
        publisher = Publisher(
            mqtt_config(mqtt_url), f"edge-{tenant_id}", box, status_builder(identity, emitter)
        )
        with running(publisher):
            got = collector.wait_for(
                lambda m: {str(e.message_id) for e in m} >= set(sent) and box.depth == 0
            )
            assert box.refusing == "disk"  # still full: the acknowledgements wait in memory
            ballast.unlink()  # space freed: acknowledgements and new readings are stored again
            more = readings(emitter, 5)
            got = collector.wait_for(
                lambda m: {str(e.message_id) for e in m} >= set(sent + more) and box.depth == 0
            )
        assert {str(e.message_id) for e in got} == set(sent + more)
        assert box.refusing is None
        assert "publisher session failed" not in caplog.text  # no resend loop while full
        assert "acknowledgements kept in memory" in caplog.text
    finally:
        collector.stop()
        box.close()
    reopened = Outbox(small_disk / "outbox.sqlite3")
    try:
        assert reopened.depth == 0  # the acknowledged messages were deleted once it could
    finally:
        reopened.close()


def test_the_running_agent_refuses_readings_on_a_full_disk_and_carries_on(
    tmp_path: Path, mqtt_url: str, tenant_id: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The agent (balance polled, pipette in use) with its outbox on a full file system: new
    readings, usage reports and device events are refused with the operator message, the
    agent keeps running (it used to die when a device event was refused), committed messages
    are delivered, and once space is freed new readings are stored again."""
    import logging
    import threading
    import time

    from labcal_edge.agent import Agent
    from labcal_edge.config import load_config
    from labcal_shared.contracts import Reading

    from .agent_config import agent_toml
    from .sim import server, sim_station
    from .subscriber import Collector

    caplog.set_level(logging.INFO, logger="labcal_edge")
    disk = next(gen := _mount_tmpfs("2m"))
    try:
        toml = (
            '[balance]\nprotocol = "mt-sics"\nserial = "B-FULL"\nsettle_s = 0.05\n'
            '[[pipettes]]\nserial = "P-FULL"\n'
        )
        with sim_station(toml, tmp_path / "dev") as station:
            bal, pip = server(station, "balance"), server(station, "pipette")
            text = agent_toml(
                tmp_path,
                tenant_id,
                mqtt_url,
                balance=bal.address,
                balance_poll_s=0.02,
                pipettes=(pip.address,),
                extra='[outbox]\npolicy = "refuse"\n',
            ).read_text()
            conf = tmp_path / "full.toml"
            conf.write_text(
                text.replace(f'data_dir = "{tmp_path / "data"}"', f'data_dir = "{disk}"')
            )
            collector = Collector(mqtt_url, tenant_id, kind="reading").start()
            agent = Agent(load_config(conf))
            stop = threading.Event()
            thread = threading.Thread(target=agent.run, args=(stop,), daemon=True)
            thread.start()
            try:
                collector.wait_for(lambda m: len(m) >= 5)
                ballast = disk / "ballast"
                fd = os.open(ballast, os.O_WRONLY | os.O_CREAT)
                try:
                    while os.write(fd, b"\0" * 4096):
                        pass
                except OSError:
                    pass
                finally:
                    os.close(fd)
                deadline = time.monotonic() + 60
                while agent.outbox.refusing != "disk" and time.monotonic() < deadline:
                    with pip.lock:  # the pipette in use: usage reports too
                        pip.device.handle_line(b"DISPENSE", 0.0)
                    time.sleep(0.05)
                assert agent.outbox.refusing == "disk"

                def bug() -> None:
                    raise RuntimeError("a bug in a device's handling")

                # the device is reopened; its "disconnected" event is refused, not raised
                agent._guarded(agent.devices.balances[0], bug)
                assert not agent.devices.balances[0].supervised.available
                bal.unplug(reappear_after_s=0.5)  # a device event while full
                time.sleep(1.5)
                assert thread.is_alive()
                assert agent.outbox.refused_total > 0 or agent.outbox.refusing == "disk"
                assert "OUTBOX ALERT: outbox full: the disk refuses writes" in caplog.text
                assert "none stored is dropped" in caplog.text
                ballast.unlink()  # the operator frees space
                before = len(collector.messages)
                got = collector.wait_for(lambda m: len(m) >= before + 5, timeout=30)
                assert agent.outbox.refusing is None
                assert "outbox accepting again (disk freed)" in caplog.text
                assert all(isinstance(m.payload, Reading) for m in got)
                assert thread.is_alive()
            finally:
                stop.set()
                thread.join(10)
                collector.stop()
    finally:
        next(gen, None)
