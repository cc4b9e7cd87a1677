"""A due reminder's text restated when it is delivered (pure): the step was planned days or weeks
earlier, so its subject and first line are rewritten from the device's due state *now* — its due
date and how far away it is — keeping the planned one-click booking link.

A step planned as the overdue escalation for a device that is now due in five weeks (a new
calibration, another interval) says "due in 35 days", under the subject of a plain reminder,
not "Overdue"."""

from __future__ import annotations

from datetime import datetime, timedelta

from labcal_cloud.engine.due import DueStatus
from labcal_cloud.notify.messages import DEFAULT_SUBJECTS, Message, message_parts, render_due_step

__all__ = ["due_headline", "restate_due_step"]

DAY = timedelta(days=1)


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def due_headline(status: DueStatus, due_at: datetime, now: datetime) -> str:
    """How far the due date is from ``now``, in words: ``due in 35 days``, ``due today``,
    ``due 3 days ago``, ``overdue by 9 days``."""
    days = (due_at.date() - now.date()).days
    if days > 0:
        return f"due in {_days(days)}"
    if days == 0:
        return "due today"
    if status is DueStatus.OVERDUE:
        return f"overdue by {_days(-days)}"
    return f"due {_days(-days)} ago"


def _basis(reason: str) -> str:
    """The engine's reason without its headline: ``overdue by 3 days: 365-day interval …`` →
    ``365-day interval …``."""
    head, sep, rest = reason.partition(": ")
    return rest if sep and not head.startswith("blocked") else reason


def restate_due_step(
    step: str,
    planned: Message,
    *,
    model: str,
    serial: str,
    status: DueStatus,
    due_at: datetime,
    reason: str,
    now: datetime,
    variant_subject: bool = False,
) -> Message:
    """The step's message as it is true at ``now``. ``step`` is the planned step name (with or
    without its ``@cycle``); an A/B variant's subject (``variant_subject``) is kept unless it
    would call a device overdue that is not."""
    name = step.partition("@")[0]
    if status is DueStatus.OVERDUE:
        name = "overdue_escalation"
    elif name == "overdue_escalation":
        name = "initial"
    url = message_parts(planned.body).action_url or ""
    headline = due_headline(status, due_at, now)
    fresh = render_due_step(
        name if name in DEFAULT_SUBJECTS else "initial",
        model=model,
        serial=serial,
        due_date=due_at.date().isoformat(),
        reason=f"{headline}: {_basis(reason)}",
        booking_url=url,
    )
    keep = variant_subject and not (
        status is not DueStatus.OVERDUE and planned.subject.lower().startswith("overdue")
    )
    return Message(planned.subject if keep else fresh.subject, fresh.body)
