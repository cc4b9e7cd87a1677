"""Server-rendered booking: from a reminder link or per site, confirmation, reschedule, cancel."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from labcal_cloud.accounts.errors import ConflictError, InvalidInputError
from labcal_cloud.accounts.model import Principal
from labcal_cloud.booking.links import LinkError, verify_booking_link
from labcal_cloud.booking.planning import bundle_for_site
from labcal_cloud.booking.store import AlreadyBookedError
from labcal_cloud.portal.auth import CurrentPrincipal, ServicesDep
from labcal_cloud.portal.error_pages import error_page
from labcal_cloud.portal.services import Services
from labcal_cloud.portal.templating import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
WEEKS = 8


def _form(
    request: Request,
    p: Principal,
    s: Services,
    site_id: str,
    checked: set[str],
    error: str | None = None,
    status: int = 200,
    conflict: AlreadyBookedError | None = None,
) -> Response:
    """The booking form of a site: its devices due in the next weeks (plus those asked for);
    a device in an active booking is listed as booked, with its day, and cannot be ticked."""
    site = s.accounts.site(p.tenant_id, site_id)
    today = s.runtime.now().date()
    booked = s.bookings.active_by_device(p.tenant_id)
    overview = s.registry.overview(p.tenant_id, today, site.id)
    lines = bundle_for_site(overview, site.id, today, WEEKS)
    extra = [x for x in overview if x.device.id in checked and x not in lines]
    lines = extra + lines
    free = {x.device.id for x in lines if x.device.id not in booked}
    return render(
        request,
        "book.html",
        status,
        principal=p,
        site=site,
        lines=lines,
        booked=booked,
        checked=(checked & free) if checked else free,
        free=len(free),
        slots=s.bookings.slots(),
        weeks=WEEKS,
        error=error,
        conflict=conflict,
    )


@router.get("/book", response_class=HTMLResponse)
def book_from_link(
    request: Request, p: CurrentPrincipal, s: ServicesDep, token: str = ""
) -> Response:
    if not token:
        return error_page(
            request,
            404,
            "This address opens from the “book in one click” link of a reminder, and the link"
            " is missing here.",
            next_step="Open the reminder in your inbox and use its button, or book from the"
            " Bookings page by site.",
            back=("/bookings", "Go to Bookings"),
            title="The booking link is missing",
        )
    try:
        link = verify_booking_link(s.link_secret, token, s.runtime.now().date())
        if link.tenant_id != p.tenant_id:
            raise LinkError("this booking link is for another organisation")
    except LinkError as exc:
        text = str(exc)
        return error_page(
            request,
            404,
            f"This booking link cannot be used: {text[:1].lower()}{text[1:]}.",
            next_step="Book from the Bookings page instead: choose the site, tick the devices.",
            back=("/bookings", "Go to Bookings"),
            title="This booking link cannot be used",
        )
    device = s.registry.device(p.tenant_id, link.device_id)
    assert device.site_id is not None
    site_lines = bundle_for_site(
        s.registry.overview(p.tenant_id, s.runtime.now().date(), device.site_id),
        device.site_id,
        s.runtime.now().date(),
        WEEKS,
    )
    return _form(request, p, s, device.site_id, {device.id} | {x.device.id for x in site_lines})


@router.get("/bookings/new", response_class=HTMLResponse)
def book_site(request: Request, p: CurrentPrincipal, s: ServicesDep, site_id: str = "") -> Response:
    if not site_id:
        return RedirectResponse("/bookings", status_code=303)
    return _form(request, p, s, site_id, set())


@router.post("/bookings", response_class=HTMLResponse)
def create_booking(
    request: Request,
    p: CurrentPrincipal,
    s: ServicesDep,
    site_id: Annotated[str, Form(max_length=64)],
    day: Annotated[date | None, Form()] = None,
    device_ids: Annotated[list[str] | None, Form()] = None,
    pickup: Annotated[bool, Form()] = False,
) -> Response:
    ids = device_ids or []
    if not ids:
        return _form(request, p, s, site_id, set(), "Tick at least one device to book.", 422)
    if day is None:
        return _form(request, p, s, site_id, set(ids), "Choose a day for the visit.", 422)
    try:
        booking = s.bookings.book(p.user, site_id, day, ids, pickup)
    except AlreadyBookedError as exc:
        return _form(request, p, s, site_id, set(ids), None, exc.status_code, exc)
    except (ConflictError, InvalidInputError) as exc:
        message = str(exc)
        text = f"{message[:1].upper()}{message[1:]}."
        return _form(request, p, s, site_id, set(ids), text, exc.status_code)
    return RedirectResponse(f"/bookings/{booking.id}", status_code=303)


@router.get("/bookings", response_class=HTMLResponse)
def bookings(request: Request, p: CurrentPrincipal, s: ServicesDep) -> Response:
    sites = s.accounts.sites(p.tenant_id)
    return render(
        request,
        "bookings.html",
        principal=p,
        bookings=s.bookings.of_tenant(p.tenant_id),
        sites=sites,
        site_names={x.id: x.name for x in sites},
    )


@router.get("/bookings/{booking_id}", response_class=HTMLResponse)
def booking_page(
    booking_id: str, request: Request, p: CurrentPrincipal, s: ServicesDep
) -> Response:
    booking = s.bookings.get(p.tenant_id, booking_id)
    devices = [s.registry.device(p.tenant_id, d) for d in booking.device_ids]
    return render(
        request,
        "booking.html",
        principal=p,
        booking=booking,
        devices=devices,
        site=s.accounts.site(p.tenant_id, booking.site_id),
        slots=s.bookings.slots(),
    )


@router.post("/bookings/{booking_id}/reschedule", response_class=RedirectResponse)
def reschedule(
    booking_id: str, p: CurrentPrincipal, s: ServicesDep, day: Annotated[date, Form()]
) -> RedirectResponse:
    s.bookings.reschedule(p.user, booking_id, day)
    return RedirectResponse(f"/bookings/{booking_id}", status_code=303)


@router.post("/bookings/{booking_id}/cancel", response_class=RedirectResponse)
def cancel(booking_id: str, p: CurrentPrincipal, s: ServicesDep) -> RedirectResponse:
    s.bookings.cancel(p.user, booking_id)
    return RedirectResponse(f"/bookings/{booking_id}", status_code=303)
