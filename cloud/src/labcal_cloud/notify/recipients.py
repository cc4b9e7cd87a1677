"""A portal user's stored reminder preferences as a planner ``Recipient`` (pure), and the check
of preferences a person sets before they are stored (``checked_preferences``)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import time

from labcal_cloud.engine.errors import PolicyError
from labcal_cloud.notify.preferences import Channel, Recipient

__all__ = ["DEFAULT_CHANNELS", "StoredPreferences", "checked_preferences", "recipient_for"]

DEFAULT_CHANNELS = "email,inbox"
_HH_MM = re.compile(r"[0-9]{2}:[0-9]{2}")


@dataclass(frozen=True, slots=True)
class StoredPreferences:
    """One ``portal_notification_prefs`` row (or the defaults for a user without one)."""

    channels: str = DEFAULT_CHANNELS
    phone: str = ""
    push_token: str = ""
    time_zone: str = "UTC"
    quiet_start: str | None = "21:00"
    quiet_end: str | None = "08:00"

    def channel_names(self) -> list[str]:
        """The stored channel names in their order, blanks dropped (not checked)."""
        return [name.strip() for name in self.channels.split(",") if name.strip()]


def _clock(text: str | None) -> time | None:
    """``HH:MM`` (24 h) or nothing; other ISO forms (seconds, an offset) are refused."""
    if text is None or text == "":
        return None
    problem = f"quiet hours: {text!r} is not a time of day as HH:MM (e.g. 21:00)"
    if not _HH_MM.fullmatch(text):
        raise PolicyError(problem)
    try:
        return time.fromisoformat(text)
    except ValueError as exc:
        raise PolicyError(problem) from exc


def _channel(name: str) -> Channel:
    try:
        return Channel(name)
    except ValueError as exc:
        known = ", ".join(c.value for c in Channel)
        raise PolicyError(f"unknown reminder channel {name!r} (choose from {known})") from exc


def recipient_for(user_id: str, email: str, prefs: StoredPreferences) -> Recipient:
    """The user's channels in their order, each with its address; a channel without an address
    (SMS without a phone number, push without a token) is left out. Raises ``PolicyError`` for
    an unknown channel or time zone or malformed quiet hours."""
    addresses: list[tuple[Channel, str]] = []
    for name in prefs.channel_names():
        channel = _channel(name)
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


def checked_preferences(
    channels: Sequence[str],
    *,
    phone: str = "",
    push_token: str = "",
    time_zone: str = "UTC",
    quiet_start: str | None = None,
    quiet_end: str | None = None,
) -> StoredPreferences:
    """Preferences a person sets (portal page, API), checked and normalised before they are
    stored. The planner's own rules apply (``recipient_for``: known channels, a time zone
    zoneinfo knows, quiet hours HH:MM, both or neither); and because the planner silently skips
    what it cannot use, a person is told instead: at least one channel, none twice, a phone
    number for SMS, a push token for push. Blanks around values are dropped; empty quiet hours
    are none. Raises ``PolicyError`` with a message for the person."""
    chosen = [_channel(name.strip()) for name in channels if name.strip()]
    if not chosen:
        raise PolicyError("choose at least one reminder channel")
    for channel in chosen:
        if chosen.count(channel) > 1:
            raise PolicyError(f"reminder channel {channel.value!r} is chosen more than once")
    phone, push_token = phone.strip(), push_token.strip()
    if Channel.SMS in chosen and not phone:
        raise PolicyError("SMS reminders need a phone number")
    if Channel.PUSH in chosen and not push_token:
        raise PolicyError("push reminders need a push token")
    prefs = StoredPreferences(
        channels=",".join(chosen),
        phone=phone,
        push_token=push_token,
        time_zone=time_zone.strip(),
        quiet_start=(quiet_start or "").strip() or None,
        quiet_end=(quiet_end or "").strip() or None,
    )
    recipient_for("check", "check@invalid", prefs)  # the planner's rules; raises PolicyError
    return prefs
