from datetime import UTC, datetime

import pytest

from labcal_edge.clock import classify_clock
from labcal_edge.ntp import AdjtimexProbe, CachedProbe, FixedProbe, make_probe
from labcal_shared.contracts import ClockQuality


@pytest.mark.parametrize(
    ("now", "ntp", "expected"),
    [
        (datetime(1970, 1, 1, tzinfo=UTC), True, ClockQuality.INVALID),
        (datetime(2023, 12, 31, 23, 59, tzinfo=UTC), True, ClockQuality.INVALID),
        (datetime(2024, 1, 1, tzinfo=UTC), True, ClockQuality.SYNCED),
        (datetime(2026, 6, 1, tzinfo=UTC), False, ClockQuality.UNSYNCED),
        (datetime(2026, 6, 1, tzinfo=UTC), None, ClockQuality.UNSYNCED),
    ],
)
def test_clock_quality(now: datetime, ntp: bool | None, expected: ClockQuality) -> None:
    assert classify_clock(now, ntp) is expected


def test_cached_probe_asks_once_per_ttl() -> None:
    calls: list[int] = []

    class Counting:
        def synchronised(self) -> bool | None:
            calls.append(1)
            return True

    probe = CachedProbe(Counting(), ttl=3600)
    assert [probe.synchronised() for _ in range(5)] == [True] * 5
    assert len(calls) == 1


def test_real_probes_answer_a_bool_or_none() -> None:
    # The kernel always answers adjtimex; the answer depends on the machine.
    assert AdjtimexProbe().synchronised() in (True, False)
    assert make_probe("auto").synchronised() in (True, False, None)
    assert make_probe("none").synchronised() is None
    assert FixedProbe(True).synchronised() is True
