"""The fault benchmark's pure parts: the verdict by message id and content, and the schedule."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import itertools

from faults_count import count, reordered
from faults_plan import KINDS, plan

A, B, C = b"a" * 32, b"b" * 32, b"c" * 32


def test_everything_stored_once_in_order_is_clean() -> None:
    ledger = [("s1", 0, "m0", A), ("s1", 1, "m1", B), ("s2", 0, "n0", C)]
    stored = [("s1", 0, "m0", A, 1.0), ("s2", 0, "n0", C, 1.5), ("s1", 1, "m1", B, 2.0)]
    got = count(ledger, stored, {"m0": 1, "m1": 1, "n0": 1}, {"m0": 1, "m1": 1, "n0": 1})
    assert got.as_dict() == {
        "committed": 3,
        "stored": 3,
        "lost": 0,
        "doubled": 0,
        "changed": 0,
        "unexpected": 0,
        "reordered": 0,
    }


def test_lost_changed_unexpected_are_told_apart() -> None:
    ledger = [("s1", 0, "m0", A), ("s1", 1, "m1", B), ("s1", 2, "m2", C)]
    stored = [("s1", 0, "m0", A, 1.0), ("s1", 1, "m1", C, 2.0), ("s1", 9, "x", A, 3.0)]
    got = count(ledger, stored)
    assert (got.lost, got.changed, got.unexpected, got.doubled) == (1, 1, 1, 0)
    assert (got.committed, got.stored) == (3, 3)


def test_doubles_by_id_by_station_seq_and_by_content_rows() -> None:
    ledger = [("s1", 0, "m0", A), ("s1", 1, "m1", B)]
    twice_by_id = [("s1", 0, "m0", A, 1.0), ("s1", 0, "m0", A, 2.0), ("s1", 1, "m1", B, 3.0)]
    assert count(ledger, twice_by_id).doubled == 2  # a second row under m0, and s1/0 twice
    same_seq = [("s1", 0, "m0", A, 1.0), ("s1", 0, "zz", A, 2.0), ("s1", 1, "m1", B, 3.0)]
    got = count(ledger, same_seq)
    assert (got.doubled, got.unexpected) == (1, 1)
    clean = [("s1", 0, "m0", A, 1.0), ("s1", 1, "m1", B, 2.0)]
    assert count(ledger, clean, {"m0": 2, "m1": 1}, {"m0": 1, "m1": 1}).doubled == 1
    assert count(ledger, clean, {"m0": 1}, {"m0": 1, "m1": 1}).doubled == 0


def test_reordered_counts_messages_stored_after_a_later_one_of_their_station() -> None:
    rows = [
        ("s1", 0, "a", A, 1.0),
        ("s1", 2, "c", A, 2.0),
        ("s2", 5, "x", A, 2.5),
        ("s1", 1, "b", A, 3.0),  # late: after seq 2
        ("s2", 4, "y", A, 4.0),  # late: after seq 5
        ("s1", 3, "d", A, 5.0),
    ]
    assert reordered(rows) == 2
    assert reordered(sorted(rows, key=lambda r: (r[0], r[1]))) == 2  # order by time, not input


def test_the_schedule_is_seeded_complete_and_sequential() -> None:
    one = plan(7, workers=2, stations=20, disk_station=19)
    assert one == plan(7, workers=2, stations=20, disk_station=19)
    assert one != plan(8, workers=2, stations=20, disk_station=19)
    kinds = [f.kind for f in one]
    assert set(kinds) == set(KINDS)
    assert sorted(f.target for f in one if f.kind == "kill_ingest") == [0, 0, 0, 1, 1, 1]
    assert kinds.count("kill_broker") == 2
    assert kinds.count("restart_postgres") == 2
    assert all(f.target != 19 for f in one if f.kind == "kill_agent")
    for before, after in itertools.pairwise(one):
        assert after.at_s >= before.at_s + before.hold_s - 1e-9  # one fault at a time


def test_a_bad_schedule_request_is_refused() -> None:
    with pytest.raises(ValueError, match="disk station"):
        plan(1, workers=2, stations=4, disk_station=4)
