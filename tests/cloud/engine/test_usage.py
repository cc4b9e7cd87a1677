"""Usage facts: recent rate and first use after long storage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from labcal_cloud.engine.due import EventKind
from labcal_cloud.engine.errors import PolicyError
from labcal_cloud.engine.usage import cycles_per_day, storage_events

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def at(day: float) -> datetime:
    return T0 + timedelta(days=day)


def test_rate_over_window() -> None:
    samples = [(at(d), 1000 + 400 * d) for d in range(0, 41)]
    assert cycles_per_day(samples, at(40), window_days=30) == pytest.approx(400)


def test_rate_ignores_counter_going_back() -> None:
    samples = [(at(0), 9_900), (at(1), 10_000), (at(2), 50), (at(3), 150)]
    assert cycles_per_day(samples, at(3), window_days=30) == pytest.approx(200 / 3)


def test_rate_falls_when_use_stops() -> None:
    samples = [(at(0), 0), (at(10), 1000)]
    assert cycles_per_day(samples, at(20), window_days=30) == pytest.approx(50)


def test_rate_zero_with_one_sample_and_bad_window() -> None:
    assert cycles_per_day([(at(0), 5)], at(1)) == 0.0
    with pytest.raises(PolicyError):
        cycles_per_day([], at(1), window_days=0)


def test_first_use_after_storage_is_an_event() -> None:
    samples = [(at(0), 0), (at(1), 100), (at(50), 100), (at(130), 100), (at(131), 180)]
    events = storage_events(samples, long_storage_days=90)
    assert len(events) == 1
    assert events[0].kind is EventKind.LONG_STORAGE
    assert events[0].at == at(131)
    assert events[0].detail == "unused for 130 days"


def test_regular_use_is_no_storage_event() -> None:
    samples = [(at(d), 10 * d) for d in range(0, 400, 30)]
    assert storage_events(samples, long_storage_days=90) == ()
