"""How the portal writes dates and times for people (Jinja filters ``day``, ``when``, ``ago``)."""

from __future__ import annotations

from datetime import UTC, date, datetime

__all__ = ["ago", "day", "when"]


def _as_datetime(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str) and value:
        return _as_datetime(datetime.fromisoformat(value))
    return None


def day(value: object) -> str:
    """``2026-03-09`` (a date, datetime or ISO text) → ``Mon 9 Mar 2026``; empty → ``—``."""
    if isinstance(value, str) and value:
        value = datetime.fromisoformat(value) if len(value) > 10 else date.fromisoformat(value)
    if isinstance(value, datetime):
        value = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).date()
    if isinstance(value, date):
        return f"{value:%a} {value.day} {value:%b %Y}"
    return "—"


def when(value: object) -> str:
    """A moment → ``Mon 9 Mar 2026, 09:05 UTC`` (the portal shows times in UTC)."""
    at = _as_datetime(value)
    if at is None:
        return "—"
    at = at.astimezone(UTC)
    return f"{day(at.date())}, {at:%H:%M} UTC"


def ago(value: object, now: datetime) -> str:
    """A moment relative to ``now``: ``just now``, ``5 minutes ago``, ``3 hours ago``,
    ``yesterday``, ``4 days ago``; older than a week: the day."""
    at = _as_datetime(value)
    if at is None:
        return "—"
    seconds = (now - at).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        n = int(seconds // 60)
        return f"{n} minute{'s' if n != 1 else ''} ago"
    if seconds < 86400:
        n = int(seconds // 3600)
        return f"{n} hour{'s' if n != 1 else ''} ago"
    days = int(seconds // 86400)
    if days == 1:
        return "yesterday"
    if days < 7:
        return f"{days} days ago"
    return day(at)
