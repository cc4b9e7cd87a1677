"""Due state: each trigger, with the reason a person reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from labcal_cloud.engine.due import (
    DeviceFacts,
    DueBasis,
    DuePolicy,
    DueState,
    DueStatus,
    EventFact,
    EventKind,
    compute_due,
    due_state_change,
)
from labcal_cloud.engine.errors import PolicyError

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def days(n: float) -> timedelta:
    return timedelta(days=n)


def facts(**kw: object) -> DeviceFacts:
    base: dict[str, object] = {
        "registered_at": NOW - days(800),
        "last_calibration_at": NOW - days(100),
    }
    base.update(kw)
    return DeviceFacts(**base)  # type: ignore[arg-type]


def test_time_based_ok_with_interval_reason() -> None:
    state = compute_due(facts(), DuePolicy(interval_days=365), NOW)
    assert state.status is DueStatus.OK
    assert state.basis is DueBasis.TIME
    assert state.due_at == NOW + days(265)
    assert (
        state.reason == "ok, due in 265 days: 365-day interval since the calibration on 2026-08-15"
    )


@pytest.mark.parametrize(
    ("calibrated_days_ago", "status", "headline"),
    [
        (340, DueStatus.DUE_SOON, "due in 25 days"),
        (365, DueStatus.DUE, "due now"),
        (370, DueStatus.DUE, "due 5 days ago"),
        (380, DueStatus.OVERDUE, "overdue by 15 days"),
    ],
)
def test_time_based_bands(calibrated_days_ago: int, status: DueStatus, headline: str) -> None:
    policy = DuePolicy(interval_days=365, due_soon_days=30, grace_days=14)
    state = compute_due(facts(last_calibration_at=NOW - days(calibrated_days_ago)), policy, NOW)
    assert state.status is status
    assert state.reason.startswith(headline + ": 365-day interval")


def test_usage_based_due_projects_cycles_to_a_date() -> None:
    policy = DuePolicy(interval_days=365, cycle_limit=50_000)
    f = facts(cycles_since_calibration=48_200, cycles_per_day=150.0)
    state = compute_due(f, policy, NOW)
    assert state.status is DueStatus.DUE_SOON
    assert state.basis is DueBasis.USAGE
    assert state.due_at == NOW + days(12)
    assert state.reason == "due in 12 days: 48,200 of 50,000 cycles at 150/day"


def test_usage_limit_passed_is_projected_back() -> None:
    policy = DuePolicy(cycle_limit=50_000, grace_days=14)
    state = compute_due(facts(cycles_since_calibration=56_000, cycles_per_day=200.0), policy, NOW)
    assert state.status is DueStatus.OVERDUE
    assert state.reason == "overdue by 30 days: 56,000 of 50,000 cycles at 200/day"


def test_usage_limit_passed_without_rate_is_due_now() -> None:
    state = compute_due(facts(cycles_since_calibration=50_001), DuePolicy(cycle_limit=50_000), NOW)
    assert (state.status, state.basis) == (DueStatus.DUE, DueBasis.USAGE)
    assert state.reason == "due now: 50,001 of 50,000 cycles"


def test_no_usage_no_usage_date() -> None:
    state = compute_due(facts(cycles_since_calibration=10), DuePolicy(cycle_limit=50_000), NOW)
    assert state.basis is DueBasis.TIME


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (
            EventFact(EventKind.DROP, NOW - days(2), "accelerometer 9 g"),
            "due 2 days ago: drop event on 2026-11-21 (accelerometer 9 g)",
        ),
        (
            EventFact(EventKind.FAILED_QUICK_CHECK, NOW - days(0.2)),
            "due now: failed quick check on 2026-11-23",
        ),
        (
            EventFact(EventKind.LONG_STORAGE, NOW - days(20), "unused for 120 days"),
            "overdue by 20 days: first use on 2026-11-03 after long storage (unused for 120 days)",
        ),
    ],
)
def test_event_triggers_make_the_device_due_now(event: EventFact, reason: str) -> None:
    state = compute_due(facts(events=(event,)), DuePolicy(), NOW)
    assert state.basis is DueBasis.EVENT
    assert state.due_at == event.at
    assert state.reason == reason


def test_events_before_the_last_calibration_are_ignored() -> None:
    old = EventFact(EventKind.DROP, NOW - days(150))
    state = compute_due(facts(events=(old,)), DuePolicy(), NOW)
    assert state.basis is DueBasis.TIME


def test_earliest_event_wins() -> None:
    drop = EventFact(EventKind.DROP, NOW - days(3))
    qc = EventFact(EventKind.FAILED_QUICK_CHECK, NOW - days(1))
    state = compute_due(facts(events=(qc, drop)), DuePolicy(), NOW)
    assert "drop event on 2026-11-20" in state.reason


def test_never_calibrated_is_due_since_registration() -> None:
    f = facts(last_calibration_at=None, registered_at=NOW - days(3))
    state = compute_due(f, DuePolicy(), NOW)
    assert (state.status, state.basis) == (DueStatus.DUE, DueBasis.NEVER_CALIBRATED)
    assert state.reason == "due 3 days ago: no calibration on record"


def test_failed_calibration_blocks_the_device() -> None:
    f = facts(last_calibration_passed=False, events=(EventFact(EventKind.DROP, NOW),))
    state = compute_due(f, DuePolicy(), NOW)
    assert (state.status, state.basis) == (DueStatus.BLOCKED, DueBasis.FAILED_CALIBRATION)
    assert state.reason.startswith("blocked: the calibration on 2026-08-15 failed")


def test_earliest_of_time_and_usage_wins() -> None:
    policy = DuePolicy(interval_days=365, cycle_limit=100_000)
    slow = compute_due(facts(cycles_since_calibration=1000, cycles_per_day=10.0), policy, NOW)
    fast = compute_due(facts(cycles_since_calibration=90_000, cycles_per_day=1000.0), policy, NOW)
    assert slow.basis is DueBasis.TIME
    assert fast.basis is DueBasis.USAGE
    assert fast.reason == "due in 10 days: 90,000 of 100,000 cycles at 1,000/day"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"interval_days": 0},
        {"cycle_limit": 0},
        {"due_soon_days": -1},
        {"grace_days": float("nan")},
    ],
)
def test_bad_policies_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(PolicyError):
        DuePolicy(**kwargs)  # type: ignore[arg-type]


def test_bad_facts_are_refused() -> None:
    with pytest.raises(PolicyError, match="negative"):
        facts(cycles_since_calibration=-1)
    with pytest.raises(PolicyError, match="cycles per day"):
        facts(cycles_per_day=float("inf"))


def test_change_events_only_on_status_or_basis_change() -> None:
    policy = DuePolicy()
    before = compute_due(facts(last_calibration_at=NOW - days(300)), policy, NOW)
    later = compute_due(facts(last_calibration_at=NOW - days(300)), policy, NOW + days(1))
    soon = compute_due(facts(last_calibration_at=NOW - days(340)), policy, NOW)
    assert due_state_change(before, later, NOW) is None
    change = due_state_change(before, soon, NOW)
    assert change is not None
    assert (change.previous, change.current) == (DueStatus.OK, DueStatus.DUE_SOON)
    assert change.reason == soon.reason
    first = due_state_change(None, before, NOW)
    assert first is not None
    assert first.previous is None


def test_due_state_is_a_value() -> None:
    a = compute_due(facts(), DuePolicy(), NOW)
    assert a == DueState(a.status, a.basis, a.due_at, a.reason)
