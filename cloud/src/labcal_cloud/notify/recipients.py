"""A portal user's stored reminder preferences as a planner ``Recipient`` (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from labcal_cloud.engine.errors import PolicyError
from labcal_cloud.notify.preferences import Channel, Recipient

__all__ = ["DEFAULT_CHANNELS", "StoredPreferences", "recipient_for"]

DEFAULT_CHANNELS = "email,inbox"


@dataclass(frozen=True, slots=True)
class StoredPreferences:
    """One ``portal_notification_prefs`` row (or the defaults for a user without one)."""

    channels: str = DEFAULT_CHANNELS
    phone: str = ""
    push_token: str = ""
    time_zone: str = "UTC"
    quiet_start: str | None = "21:00"
    quiet_end: str | None = "08:00"


def _clock(text: str | None) -> time | None:
    if text is None or text == "":
        return None
    try:
        return time.fromisoformat(text)
    except ValueError as exc:
        raise PolicyError(f"quiet hours: {text!r} is not HH:MM") from exc


def recipient_for(user_id: str, email: str, prefs: StoredPreferences) -> Recipient:
    """The user's channels in their order, each with its address; a channel without an address
    (SMS without a phone number, push without a token) is left out. Raises ``PolicyError`` for
    an unknown channel or time zone or malformed quiet hours."""
    addresses: list[tuple[Channel, str]] = []
    for name in (c.strip() for c in prefs.channels.split(",")):
        if not name:
            continue
        try:
            channel = Channel(name)
        except ValueError as exc:
            raise PolicyError(f"unknown reminder channel {name!r}") from exc
        address = {
            Channel.EMAIL: email,
            Channel.SMS: prefs.phone,
            Channel.PUSH: prefs.push_token,
            Channel.INBOX: user_id,
        }[channel]
        if address and all(c is not channel for c, _ in addresses):
            addresses.append((channel, address))
    return Recipient(
        user_id,
        tuple(addresses),
        time_zone=prefs.time_zone,
        quiet_start=_clock(prefs.quiet_start),
        quiet_end=_clock(prefs.quiet_end),
    )
