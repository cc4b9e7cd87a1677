"""Server-rendered page where a user sees and sets their own reminder preferences."""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any
from zoneinfo import available_timezones

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from labcal_cloud.accounts.errors import InvalidInputError
from labcal_cloud.accounts.model import Principal
from labcal_cloud.notify.preferences import Channel
from labcal_cloud.notify.recipients import StoredPreferences
from labcal_cloud.portal.auth import CurrentPrincipal, ServicesDep
from labcal_cloud.portal.notification_prefs import unusable
from labcal_cloud.portal.templating import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

CHANNEL_LABELS = {
    Channel.EMAIL: "E-mail",
    Channel.SMS: "SMS (text message)",
    Channel.PUSH: "Push notification",
    Channel.INBOX: "Portal inbox",
}
ORDINALS = ("First", "Second", "Third", "Fourth")


@cache
def _time_zones() -> list[str]:
    return sorted(available_timezones())


def _page(
    request: Request,
    p: Principal,
    form: dict[str, Any],
    *,
    status: int = 200,
    stored: bool = True,
    problem: str | None = None,
    error: str | None = None,
    saved: bool = False,
) -> Response:
    return render(
        request,
        "reminders.html",
        status,
        principal=p,
        form=form,
        stored=stored,
        problem=problem,
        error=error,
        saved=saved,
        channels=[(c.value, label) for c, label in CHANNEL_LABELS.items()],
        ordinals=ORDINALS,
        time_zones=_time_zones(),
    )


def _form(prefs: StoredPreferences) -> dict[str, Any]:
    return {
        "channels": prefs.channel_names(),
        "phone": prefs.phone,
        "push_token": prefs.push_token,
        "time_zone": prefs.time_zone,
        "quiet_start": prefs.quiet_start or "",
        "quiet_end": prefs.quiet_end or "",
    }


@router.get("/me/reminders", response_class=HTMLResponse)
def reminders_form(
    request: Request, p: CurrentPrincipal, s: ServicesDep, saved: bool = False
) -> Response:
    stored = s.notification_prefs.stored(p.user.id)
    prefs = stored or StoredPreferences()
    return _page(
        request,
        p,
        _form(prefs),
        stored=stored is not None,
        problem=unusable(prefs),
        saved=saved,
    )


@router.post("/me/reminders", response_class=HTMLResponse)
def save_reminders(
    request: Request,
    p: CurrentPrincipal,
    s: ServicesDep,
    channel: Annotated[list[str] | None, Form(max_length=8)] = None,
    phone: Annotated[str, Form(max_length=32)] = "",
    push_token: Annotated[str, Form(max_length=4096)] = "",
    time_zone: Annotated[str, Form(max_length=64)] = "UTC",
    quiet_start: Annotated[str, Form(max_length=16)] = "",
    quiet_end: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    channels = channel or []
    try:
        s.notification_prefs.save(
            p.user.id,
            channels,
            phone=phone,
            push_token=push_token,
            time_zone=time_zone,
            quiet_start=quiet_start,
            quiet_end=quiet_end,
        )
    except InvalidInputError as exc:
        form = {
            "channels": [c.strip() for c in channels if c.strip()],
            "phone": phone,
            "push_token": push_token,
            "time_zone": time_zone,
            "quiet_start": quiet_start,
            "quiet_end": quiet_end,
        }
        return _page(request, p, form, status=exc.status_code, error=str(exc))
    return RedirectResponse("/me/reminders?saved=1", status_code=303)
