"""Planning reminder steps for a due item and for onboarding."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from labcal_cloud.booking.links import verify_booking_link
from labcal_cloud.engine.due import DueBasis, DueState, DueStatus
from labcal_cloud.notify.experiments import Variant
from labcal_cloud.notify.planner import DueItem, plan_due_reminders, plan_onboarding
from labcal_cloud.notify.preferences import Channel, Recipient
from labcal_cloud.notify.sequence import DUE_SEQUENCE

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
KEY = b"0123456789abcdef0123"
STATE = DueState(
    DueStatus.OK,
    DueBasis.USAGE,
    NOW + timedelta(days=40),
    "ok, due in 40 days: 34,000 of 50,000 cycles at 400/day",
)
ANA = Recipient(
    "ana",
    ((Channel.EMAIL, "ana@lab.test"), (Channel.INBOX, "ana")),
    "Europe/Berlin",
    time(21),
    time(8),
)


def test_due_item_gets_each_step_on_each_channel_with_link_and_reason() -> None:
    item = DueItem("t1", "dev-1", "P100", "S1", STATE)
    steps = plan_due_reminders(
        item, [ANA], DUE_SEQUENCE, now=NOW, link_key=KEY, booking_base_url="https://p.test/book"
    )
    assert [(s.step, s.channel) for s in steps] == [
        (name, ch)
        for name in ("initial", "follow_up", "last_notice", "overdue_escalation")
        for ch in ("email", "inbox")
    ]
    first = steps[0]
    assert first.send_at == NOW + timedelta(days=10)  # 11:00 in Berlin: not quiet
    assert "34,000 of 50,000 cycles at 400/day" in first.body
    token = first.body.split("https://p.test/book?token=")[1].split()[0]
    link = verify_booking_link(KEY, token, NOW.date())  # what the portal's /book page checks
    assert (link.tenant_id, link.device_id) == ("t1", "dev-1")
    assert link.expires == (NOW + timedelta(days=60)).date()


def test_steps_falling_in_quiet_hours_wait_for_the_morning() -> None:
    late = DueState(DueStatus.OK, DueBasis.TIME, datetime(2026, 12, 31, 21, 30, tzinfo=UTC), "r")
    steps = plan_due_reminders(
        DueItem("t1", "dev-1", "P100", "S1", late),
        [ANA],
        DUE_SEQUENCE,
        now=NOW,
        link_key=KEY,
        booking_base_url="https://p.test/book",
    )
    email = [s for s in steps if s.channel == "email"]
    inbox = [s for s in steps if s.channel == "inbox"]
    assert all(s.send_at.astimezone(UTC).hour == 7 for s in email)  # 08:00 Berlin
    assert all(s.send_at.hour == 21 for s in inbox)


def test_ab_variant_changes_subject_and_timing() -> None:
    variants = [
        Variant("early", "Plan ahead: {model} {serial}", offset_shift_days=-7, weight=1),
    ]
    steps = plan_due_reminders(
        DueItem("t1", "dev-1", "P100", "S1", STATE),
        [ANA],
        DUE_SEQUENCE,
        now=NOW,
        link_key=KEY,
        booking_base_url="https://p.test/book",
        experiment="x",
        variants=variants,
    )
    assert steps[0].variant == "early"
    assert steps[0].subject == "Plan ahead: P100 S1"
    assert steps[0].send_at == NOW + timedelta(days=3)


def test_onboarding_runs_on_the_same_steps() -> None:
    steps = plan_onboarding("t1", "acct-1", ANA, "Ana", "https://p.test", created_at=NOW, now=NOW)
    assert [(s.sequence, s.step, s.channel) for s in steps[:2]] == [
        ("onboarding", "welcome", "email"),
        ("onboarding", "welcome", "inbox"),
    ]
    assert steps[-1].step == "day_7"
    assert steps[-1].send_at == NOW + timedelta(days=7)
