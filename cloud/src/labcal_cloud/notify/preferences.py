"""A recipient's channels, time zone and quiet hours; when a step may actually go out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from labcal_cloud.engine.errors import PolicyError

__all__ = ["Channel", "Recipient", "deliver_at"]


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    PUSH = "push"
    INBOX = "inbox"


@dataclass(frozen=True, slots=True)
class Recipient:
    user_id: str
    addresses: tuple[tuple[Channel, str], ...]  # channel → address, in the user's order
    time_zone: str = "UTC"
    quiet_start: time | None = time(21, 0)
    quiet_end: time | None = time(8, 0)

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise PolicyError(f"unknown time zone {self.time_zone!r}") from exc
        if (self.quiet_start is None) != (self.quiet_end is None):
            raise PolicyError("quiet hours need both a start and an end")


def _in_quiet(local: time, start: time, end: time) -> bool:
    if start <= end:
        return start <= local < end
    return local >= start or local < end  # spans midnight


def deliver_at(send_at: datetime, recipient: Recipient, channel: Channel) -> datetime:
    """``send_at`` moved to the end of the recipient's quiet hours if it falls inside them.
    The portal inbox is silent, so it is never delayed."""
    if channel is Channel.INBOX or recipient.quiet_start is None or recipient.quiet_end is None:
        return send_at
    zone = ZoneInfo(recipient.time_zone)
    local = send_at.astimezone(zone)
    if not _in_quiet(
        local.timetz().replace(tzinfo=None), recipient.quiet_start, recipient.quiet_end
    ):
        return send_at
    end = local.replace(
        hour=recipient.quiet_end.hour,
        minute=recipient.quiet_end.minute,
        second=0,
        microsecond=0,
    )
    if end <= local:
        end = (local + timedelta(days=1)).replace(
            hour=recipient.quiet_end.hour,
            minute=recipient.quiet_end.minute,
            second=0,
            microsecond=0,
        )
    # re-resolve in the zone so a DST change during the night is honoured
    end = datetime.combine(end.date(), end.timetz().replace(tzinfo=None), tzinfo=zone)
    return end.astimezone(send_at.tzinfo)
