"""Readable dates and times, and a reminder's text split into paragraphs and its call to action
(pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from labcal_cloud.notify.message_html import reminder_html
from labcal_cloud.notify.messages import message_parts, render_due_step
from labcal_cloud.portal.formatting import ago, day, when

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (date(2026, 3, 9), "Mon 9 Mar 2026"),
        ("2026-03-09", "Mon 9 Mar 2026"),
        ("2026-03-09T23:30:00-02:00", "Tue 10 Mar 2026"),  # in UTC
        (None, "—"),
        ("", "—"),
    ],
)
def test_day(value: object, text: str) -> None:
    assert day(value) == text


def test_when_is_in_utc() -> None:
    assert when(datetime(2026, 3, 2, 10, 5, tzinfo=timezone(timedelta(hours=1)))) == (
        "Mon 2 Mar 2026, 09:05 UTC"
    )
    assert when("2026-03-02T09:05:00+00:00") == "Mon 2 Mar 2026, 09:05 UTC"


@pytest.mark.parametrize(
    ("before", "text"),
    [
        (timedelta(seconds=20), "just now"),
        (timedelta(minutes=1), "1 minute ago"),
        (timedelta(minutes=45), "45 minutes ago"),
        (timedelta(hours=3), "3 hours ago"),
        (timedelta(days=1, hours=2), "yesterday"),
        (timedelta(days=4), "4 days ago"),
        (timedelta(days=12), "Wed 18 Feb 2026"),
    ],
)
def test_ago(before: timedelta, text: str) -> None:
    assert ago(NOW - before, NOW) == text


def test_message_parts_find_the_booking_link() -> None:
    m = render_due_step(
        "initial",
        model="P100",
        serial="S-1",
        due_date="2026-04-01",
        reason="due in 30 days: interval",
        booking_url="https://portal.example/book?token=a.b",
    )
    parts = message_parts(m.body)
    assert parts.action_url == "https://portal.example/book?token=a.b"
    assert parts.action_label == "Book calibration"
    assert parts.paragraphs[0] == "P100 S-1: due in 30 days: interval."
    assert all("http" not in p for p in parts.paragraphs)
    onboarding = message_parts("Hello Ann,\n\nyour account is ready.\n\nhttps://portal.example\n")
    assert (onboarding.action_url, onboarding.action_label) == (
        "https://portal.example",
        "Open LabCal",
    )


def test_html_part_escapes_the_text_and_links_the_button() -> None:
    html = reminder_html(
        "P<100> due",
        'Device <b>"x"</b>.\n\nBook its calibration in one click:\nhttps://p.example/book?token=a&b\n',
    )
    assert "<b>" not in html
    assert "&lt;b&gt;" in html
    assert "<h1" in html
    assert "P&lt;100&gt; due" in html
    assert 'href="https://p.example/book?token=a&amp;b"' in html
