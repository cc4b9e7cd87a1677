"""Texts of reminder steps: subject (A/B template) and body with the one-click booking link."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = [
    "ACTION_LINE",
    "DEFAULT_SUBJECTS",
    "Message",
    "MessageParts",
    "message_parts",
    "render_due_step",
    "render_onboarding_step",
]

DEFAULT_SUBJECTS: Final[dict[str, str]] = {
    "initial": "Calibration of {model} {serial} due on {due_date}",
    "follow_up": "Reminder: {model} {serial} is due for calibration on {due_date}",
    "last_notice": "Last notice: {model} {serial} is due on {due_date}",
    "overdue_escalation": "Overdue: {model} {serial} was due on {due_date}",
    "welcome": "Welcome to LabCal",
    "day_3": "Register your first pipettes in LabCal",
    "day_7": "Your LabCal overview: what is due and when",
}

ACTION_LINE: Final = "Book its calibration in one click:"


@dataclass(frozen=True, slots=True)
class Message:
    subject: str
    body: str


def render_due_step(
    step: str,
    *,
    model: str,
    serial: str,
    due_date: str,
    reason: str,
    booking_url: str,
    subject_template: str | None = None,
) -> Message:
    """A due-sequence step; ``reason`` is the due state's reason text."""
    template = subject_template or DEFAULT_SUBJECTS[step]
    subject = template.format(model=model, serial=serial, due_date=due_date)
    body = (
        f"{model} {serial}: {reason}.\n\n"
        f"{ACTION_LINE}\n{booking_url}\n\n"
        "You receive this because you look after this device in LabCal. "
        "Reminders stop as soon as it is booked."
    )
    return Message(subject, body)


def render_onboarding_step(step: str, *, name: str, portal_url: str) -> Message:
    lines = {
        "welcome": "your LabCal account is ready.",
        "day_3": "register your pipettes by serial number or QR code to see what is due.",
        "day_7": "your overview shows every device's due state and the bookings to make.",
    }
    return Message(DEFAULT_SUBJECTS[step], f"Hello {name},\n\n{lines[step]}\n\n{portal_url}\n")


@dataclass(frozen=True, slots=True)
class MessageParts:
    """A reminder's text as a person reads it: paragraphs and the one call to action."""

    paragraphs: tuple[str, ...]
    action_url: str | None
    action_label: str


def message_parts(body: str) -> MessageParts:
    """Split a step's plain-text body into paragraphs and its link: the line after
    "Book its calibration in one click:" (or any line that is a URL) is the call to action."""
    paragraphs: list[str] = []
    url: str | None = None
    label = "Open LabCal"
    for block in body.split("\n\n"):
        lines = [x.strip() for x in block.strip().splitlines() if x.strip()]
        links = [x for x in lines if x.startswith(("http://", "https://")) and " " not in x]
        if links and url is None:
            url = links[0]
            if ACTION_LINE in lines:
                label = "Book calibration"
            lines = [x for x in lines if x not in links and x != ACTION_LINE]
        if lines:
            paragraphs.append(" ".join(lines))
    return MessageParts(tuple(paragraphs), url, label)
