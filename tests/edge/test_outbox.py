import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from labcal_edge.config import FullPolicy
from labcal_edge.errors import OutboxFullError
from labcal_edge.outbox import Outbox, OutboxMessage


def msg(tag: str = "m") -> Callable[[int], OutboxMessage]:
    return lambda seq: OutboxMessage(
        f"{tag}-{seq}", "labcal/v1/t/s/reading", f"{tag}{seq}".encode()
    )


def test_sequence_numbers_are_persisted_across_reopen(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite3"
    box = Outbox(path)
    assert [box.append(msg()) for _ in range(3)] == [0, 1, 2]
    box.ack([0, 1, 2])
    assert box.depth == 0
    box.close()
    box = Outbox(path)
    assert box.append(msg()) == 3  # never reused, even after the outbox emptied
    assert box.reserve_seq() == 4
    assert box.append(msg()) == 5
    assert [m.seq for m in box.peek(-1, 10)] == [3, 5]


def test_peek_is_ordered_and_ack_removes_only_what_was_acked(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite3")
    box.append_many([msg() for _ in range(10)])
    assert [m.seq for m in box.peek(3, 4)] == [4, 5, 6, 7]
    assert box.ack([4, 6, 99]) == 2
    assert [m.seq for m in box.peek(-1, 100)] == [0, 1, 2, 3, 5, 7, 8, 9]
    assert box.peek(0, 1)[0].payload == b"m1"


def test_refuse_policy_refuses_and_alerts(tmp_path: Path) -> None:
    alerts: list[str] = []
    box = Outbox(
        tmp_path / "o.sqlite3", capacity=2, policy=FullPolicy.REFUSE, on_alert=alerts.append
    )
    box.append(msg())
    box.append(msg())
    with pytest.raises(OutboxFullError):
        box.append(msg())
    assert box.refused_total == 1
    assert alerts
    assert "refused" in alerts[0]
    assert [m.seq for m in box.peek(-1, 10)] == [0, 1]


def test_drop_oldest_counts_and_alerts(tmp_path: Path) -> None:
    alerts: list[str] = []
    box = Outbox(
        tmp_path / "o.sqlite3", capacity=3, policy=FullPolicy.DROP_OLDEST, on_alert=alerts.append
    )
    for _ in range(5):
        box.append(msg())
    assert [m.seq for m in box.peek(-1, 10)] == [2, 3, 4]
    assert box.dropped_total == 2
    assert len(alerts) == 2
    assert "dropped" in alerts[-1]


def test_block_policy_waits_for_an_ack_then_times_out(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite3", capacity=1, policy=FullPolicy.BLOCK, block_timeout_s=5)
    box.append(msg())
    done: list[int] = []
    t = threading.Thread(target=lambda: done.append(box.append(msg())))
    t.start()
    t.join(0.3)
    assert not done  # blocked while full
    box.ack([0])
    t.join(5)
    assert done == [1]
    short = Outbox(tmp_path / "p.sqlite3", capacity=1, policy=FullPolicy.BLOCK, block_timeout_s=0.1)
    short.append(msg())
    with pytest.raises(OutboxFullError, match="full"):
        short.append(msg())
    assert short.refused_total == 1


def test_a_failing_builder_rolls_back_everything(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite3")

    def boom(seq: int) -> OutboxMessage:
        raise ValueError("bad payload")

    with pytest.raises(ValueError, match="bad payload"):
        box.append_many([msg(), boom])
    assert box.depth == 0
    assert box.peek(-1, 10) == []
    assert box.append(msg()) == 0


def test_dead_letters_keep_refused_messages(tmp_path: Path) -> None:
    alerts: list[str] = []
    box = Outbox(tmp_path / "o.sqlite3", on_alert=alerts.append)
    box.append_many([msg(), msg()])
    box.dead_letter(0, "Not authorized")
    assert [m.seq for m in box.peek(-1, 10)] == [1]
    assert box.dead_letters() == [(0, "m-0", "Not authorized")]
    assert "Not authorized" in alerts[0]


def test_survives_kill_9_mid_write(tmp_path: Path) -> None:
    """A real subprocess appends as fast as it can and is SIGKILLed: every append it reported
    committed is still there (or was acked), nothing is half-written, seqs never repeat."""
    path = tmp_path / "o.sqlite3"
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("outbox_writer.py")), str(path)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert proc.stdout is not None
    reported: dict[int, str] = {}
    for line in proc.stdout:
        state, number = line.split()
        reported[int(number)] = state
        if len(reported) >= 300:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    box = Outbox(path)
    stored = {m.seq: m for m in box.peek(-1, 1_000_000)}
    for seq, state in reported.items():
        if state == "stored":
            assert seq in stored, f"seq {seq} was reported committed but is gone"
            assert stored[seq].payload == b"x" * 200
    assert not any(state == "acked" and seq in stored for seq, state in reported.items())
    next_seq = box.append(msg())
    assert next_seq > max(reported)


def test_two_processes_sharing_the_outbox_keep_the_depth_right(tmp_path: Path) -> None:
    """``labcal-edge gravimetric`` commits into the outbox the agent drains: the agent deletes
    rows it did not append; its depth must not go negative (it broke the station status)."""
    agent = Outbox(tmp_path / "o.sqlite3")
    gravimetric = Outbox(tmp_path / "o.sqlite3")
    try:
        seqs = [
            gravimetric.append(lambda s: OutboxMessage(f"id-{s}", "labcal/v1/t/s/run", b"r"))
            for _ in range(5)
        ]
        agent.append(lambda s: OutboxMessage(f"id-{s}", "labcal/v1/t/s/reading", b"x"))
        assert agent.depth == 1  # its own estimate
        assert agent.ack(seqs) == 5
        assert agent.depth == 1  # recounted, not 1 - 5
        for _ in range(2):
            gravimetric.append(lambda s: OutboxMessage(f"id-{s}", "labcal/v1/t/s/run", b"r"))
        small = Outbox(tmp_path / "o.sqlite3", capacity=3, policy=FullPolicy.REFUSE)
        assert small.depth == 3  # full
        agent.ack(m.seq for m in agent.peek(-1, 10))  # the agent delivered them all
        small.append(lambda s: OutboxMessage(f"id-{s}", "labcal/v1/t/s/run", b"r"))  # recounted
        assert small.depth == 1
        small.close()
    finally:
        agent.close()
        gravimetric.close()
