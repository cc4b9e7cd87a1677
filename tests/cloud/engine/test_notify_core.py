"""Reminder core: sequences, quiet hours, booking links, A/B assignment, texts."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, time, timedelta

import pytest

from labcal_cloud.engine.errors import PolicyError
from labcal_cloud.notify.experiments import Variant, assign_variant, conversion_by_variant
from labcal_cloud.notify.messages import render_due_step, render_onboarding_step
from labcal_cloud.notify.preferences import Channel, Recipient, deliver_at
from labcal_cloud.notify.sequence import DUE_SEQUENCE, ONBOARDING_SEQUENCE, plan_steps

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def test_due_sequence_plans_all_future_steps() -> None:
    steps = plan_steps(DUE_SEQUENCE, NOW + timedelta(days=40), NOW)
    assert [(s.step, (s.send_at - NOW).days) for s in steps] == [
        ("initial", 10),
        ("follow_up", 26),
        ("last_notice", 37),
        ("overdue_escalation", 47),
    ]


def test_late_registration_skips_stale_steps_but_never_the_escalation() -> None:
    steps = plan_steps(DUE_SEQUENCE, NOW + timedelta(days=10), NOW)
    assert [s.step for s in steps] == ["last_notice", "overdue_escalation"]
    overdue = plan_steps(DUE_SEQUENCE, NOW - timedelta(days=30), NOW)
    assert [(s.step, s.send_at) for s in overdue] == [("overdue_escalation", NOW)]
    just_due = plan_steps(DUE_SEQUENCE, NOW + timedelta(days=14, hours=-1), NOW)
    assert just_due[0].step == "follow_up"
    assert just_due[0].send_at == NOW


def test_tenant_offsets_and_onboarding() -> None:
    spec = DUE_SEQUENCE.with_offsets({"initial": -60})
    assert spec.steps[0].offset_days == -60
    with pytest.raises(PolicyError, match="no step"):
        DUE_SEQUENCE.with_offsets({"nope": 1})
    with pytest.raises(PolicyError, match="increase"):
        DUE_SEQUENCE.with_offsets({"initial": 0})
    onboarding = plan_steps(ONBOARDING_SEQUENCE, NOW, NOW)
    assert [(s.step, (s.send_at - NOW).days) for s in onboarding] == [
        ("welcome", 0),
        ("day_3", 3),
        ("day_7", 7),
    ]


def test_quiet_hours_in_the_recipients_zone() -> None:
    r = Recipient("u1", ((Channel.EMAIL, "a@x.test"),), "Europe/Berlin", time(21), time(8))
    night = datetime(2026, 11, 23, 22, 30, tzinfo=UTC)  # 23:30 in Berlin
    assert deliver_at(night, r, Channel.EMAIL) == datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
    early = datetime(2026, 11, 24, 5, 0, tzinfo=UTC)  # 06:00 in Berlin
    assert deliver_at(early, r, Channel.SMS) == datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
    day = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    assert deliver_at(day, r, Channel.EMAIL) == day
    assert deliver_at(night, r, Channel.INBOX) == night


def test_quiet_hours_across_a_dst_change() -> None:
    r = Recipient("u1", (), "Europe/Berlin", time(21), time(8))
    # night of 28→29 March 2026: clocks go from UTC+1 to UTC+2
    night = datetime(2026, 3, 28, 22, 0, tzinfo=UTC)
    assert deliver_at(night, r, Channel.EMAIL) == datetime(2026, 3, 29, 6, 0, tzinfo=UTC)


def test_bad_recipient_settings() -> None:
    with pytest.raises(PolicyError, match="time zone"):
        Recipient("u", (), "Mars/Olympus")
    with pytest.raises(PolicyError, match="quiet"):
        Recipient("u", (), "UTC", time(21), None)


def test_ab_assignment_is_deterministic_and_weighted() -> None:
    variants = [Variant("a", "A {serial}"), Variant("b", "B {serial}", weight=3)]
    first = assign_variant("subj-2026", "user-1", variants)
    assert all(assign_variant("subj-2026", "user-1", variants) == first for _ in range(5))
    counts = Counter(assign_variant("subj-2026", f"user-{i}", variants).name for i in range(4000))
    assert 0.70 < counts["b"] / 4000 < 0.80
    with pytest.raises(PolicyError):
        assign_variant("x", "u", [])


def test_conversion_by_variant_counts_each_subject_once() -> None:
    stats = conversion_by_variant(
        sent=[("a", "d1"), ("a", "d1"), ("a", "d2"), ("b", "d3")],
        converted=[("a", "d1"), ("a", "d1"), ("b", "d9")],
    )
    assert [(s.variant, s.sent, s.converted) for s in stats] == [("a", 2, 1), ("b", 1, 0)]
    assert stats[0].rate == 0.5


def test_messages_carry_reason_and_link() -> None:
    m = render_due_step(
        "initial",
        model="P100",
        serial="S1",
        due_date="2026-12-23",
        reason="due in 30 days: 365-day interval since the calibration on 2025-12-23",
        booking_url="https://portal.test/book/tok",
    )
    assert m.subject == "Calibration of P100 S1 due on 2026-12-23"
    assert "due in 30 days" in m.body
    assert "https://portal.test/book/tok" in m.body
    assert render_onboarding_step("day_3", name="Ana", portal_url="u").subject.startswith(
        "Register"
    )
