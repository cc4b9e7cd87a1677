"""REST API for the signed-in user's own reminder preferences (``/api/v1/me/…``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field

from labcal_cloud.notify.recipients import StoredPreferences
from labcal_cloud.portal.auth import CurrentPrincipal, ServicesDep
from labcal_cloud.portal.notification_prefs import unusable

__all__ = ["ReminderPreferencesOut", "router"]

router = APIRouter(prefix="/api/v1", tags=["accounts"])

ChannelName = Annotated[str, Field(max_length=32)]


class ReminderPreferencesIn(BaseModel):
    channels: list[ChannelName] = Field(
        max_length=8,
        description="in your order, each once: email, sms, push, inbox (at least one)",
        examples=[["sms", "email", "inbox"]],
    )
    phone: str = Field(default="", max_length=32, description="needed for sms")
    push_token: str = Field(default="", max_length=4096, description="needed for push")
    time_zone: str = Field(default="UTC", max_length=64, examples=["Europe/Berlin"])
    quiet_start: str | None = Field(
        default=None, max_length=16, description="HH:MM; with quiet_end, or neither"
    )
    quiet_end: str | None = Field(default=None, max_length=16, examples=["08:00"])


class ReminderPreferencesOut(BaseModel):
    channels: list[str]
    phone: str
    push_token: str
    time_zone: str
    quiet_start: str | None
    quiet_end: str | None
    stored: bool  # false: nothing saved yet, these are the defaults
    problem: str | None  # why the reminder planner cannot use the saved row (it uses defaults)

    @classmethod
    def of(cls, prefs: StoredPreferences, stored: bool) -> ReminderPreferencesOut:
        return cls(
            channels=prefs.channel_names(),
            phone=prefs.phone,
            push_token=prefs.push_token,
            time_zone=prefs.time_zone,
            quiet_start=prefs.quiet_start,
            quiet_end=prefs.quiet_end,
            stored=stored,
            problem=unusable(prefs),
        )


@router.get("/me/reminder-preferences")
def get_reminder_preferences(p: CurrentPrincipal, s: ServicesDep) -> ReminderPreferencesOut:
    """Your reminder channels, time zone and quiet hours (the defaults until you save some)."""
    stored = s.notification_prefs.stored(p.user.id)
    return ReminderPreferencesOut.of(stored or StoredPreferences(), stored is not None)


@router.put("/me/reminder-preferences")
def put_reminder_preferences(
    body: ReminderPreferencesIn, p: CurrentPrincipal, s: ServicesDep
) -> ReminderPreferencesOut:
    """Replace your reminder preferences; 422 with a message when they cannot be used."""
    prefs = s.notification_prefs.save(
        p.user.id,
        body.channels,
        phone=body.phone,
        push_token=body.push_token,
        time_zone=body.time_zone,
        quiet_start=body.quiet_start,
        quiet_end=body.quiet_end,
    )
    return ReminderPreferencesOut.of(prefs, True)
