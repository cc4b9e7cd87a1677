"""REST API for booking: technicians (capacity), slots, bundles, bookings, reminder links."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi import APIRouter
from pydantic import BaseModel, Field

from labcal_cloud.accounts.errors import ForbiddenError
from labcal_cloud.accounts.model import Role
from labcal_cloud.booking.links import BookingLink, sign_booking_link
from labcal_cloud.booking.planning import Slot, bundle_for_site
from labcal_cloud.booking.store import Booking
from labcal_cloud.portal.api_devices import DeviceOut
from labcal_cloud.portal.auth import CurrentPrincipal, ProviderStaff, ServicesDep
from labcal_cloud.portal.services import Services

__all__ = ["booking_link_url", "router"]

router = APIRouter(prefix="/api/v1", tags=["booking"])


class TechnicianIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    weekdays: list[int] = Field(min_length=1, max_length=7)
    daily_slots: int = Field(ge=1, le=50)


class TechnicianOut(BaseModel):
    id: str
    name: str
    weekdays: list[int]
    daily_slots: int


class SlotOut(BaseModel):
    day: date
    technician: str
    free: int

    @classmethod
    def of(cls, s: Slot) -> SlotOut:
        return cls(day=s.day, technician=s.technician, free=s.free)


class BookingIn(BaseModel):
    site_id: str = Field(max_length=64)
    day: date
    device_ids: list[str] = Field(min_length=1, max_length=500)
    pickup: bool = False


class RescheduleIn(BaseModel):
    day: date


class BookingOut(BaseModel):
    id: str
    site_id: str
    day: date
    pickup: bool
    status: str
    device_ids: list[str]

    @classmethod
    def of(cls, b: Booking) -> BookingOut:
        return cls(
            id=b.id,
            site_id=b.site_id,
            day=b.day,
            pickup=b.pickup,
            status=b.status,
            device_ids=list(b.device_ids),
        )


class LinkIn(BaseModel):
    device_id: str = Field(max_length=64)
    valid_days: int = Field(default=30, ge=1, le=365)


class LinkOut(BaseModel):
    url: str
    expires: date


def booking_link_url(s: Services, tenant_id: str, device_id: str, expires: date) -> str:
    """The URL a reminder carries: opens the booking page for this device, signed."""
    token = sign_booking_link(s.link_secret, BookingLink(tenant_id, device_id, expires))
    return f"{s.settings.base_url}/book?token={token}"


def _lab(p: CurrentPrincipal) -> None:
    if p.role not in (Role.LAB_ADMIN, Role.LAB_USER):
        raise ForbiddenError("bookings are made by lab admins and lab users")


@router.post("/technicians", status_code=201)
def add_technician(body: TechnicianIn, p: ProviderStaff, s: ServicesDep) -> TechnicianOut:
    if p.role is not Role.PROVIDER_ADMIN:
        raise ForbiddenError("only a provider admin manages technicians")
    t = s.bookings.add_technician(body.name, body.weekdays, body.daily_slots)
    return TechnicianOut(
        id=t.id, name=t.name, weekdays=sorted(t.weekdays), daily_slots=t.daily_slots
    )


@router.get("/slots")
def slots(
    p: CurrentPrincipal, s: ServicesDep, start: date | None = None, count: int = 5
) -> list[SlotOut]:
    return [SlotOut.of(x) for x in s.bookings.slots(start, min(max(count, 1), 30))]


@router.get("/bundles")
def bundle(p: CurrentPrincipal, s: ServicesDep, site_id: str, weeks: int = 8) -> list[DeviceOut]:
    s.accounts.site(p.tenant_id, site_id)
    today = s.runtime.now().date()
    lines = s.registry.overview(p.tenant_id, today, site_id)
    booked = s.bookings.booked_device_ids(p.tenant_id)
    due = bundle_for_site(lines, site_id, today, min(weeks, 52))
    return [DeviceOut.of_line(x) for x in due if x.device.id not in booked]


@router.post("/bookings", status_code=201)
def book(body: BookingIn, p: CurrentPrincipal, s: ServicesDep) -> BookingOut:
    _lab(p)
    return BookingOut.of(
        s.bookings.book(p.user, body.site_id, body.day, body.device_ids, body.pickup)
    )


@router.get("/bookings")
def list_bookings(p: CurrentPrincipal, s: ServicesDep) -> list[BookingOut]:
    return [BookingOut.of(b) for b in s.bookings.of_tenant(p.tenant_id)]


@router.get("/bookings/{booking_id}")
def get_booking(booking_id: str, p: CurrentPrincipal, s: ServicesDep) -> BookingOut:
    return BookingOut.of(s.bookings.get(p.tenant_id, booking_id))


@router.put("/bookings/{booking_id}")
def reschedule(
    booking_id: str, body: RescheduleIn, p: CurrentPrincipal, s: ServicesDep
) -> BookingOut:
    _lab(p)
    return BookingOut.of(s.bookings.reschedule(p.user, booking_id, body.day))


@router.delete("/bookings/{booking_id}")
def cancel(booking_id: str, p: CurrentPrincipal, s: ServicesDep) -> BookingOut:
    _lab(p)
    return BookingOut.of(s.bookings.cancel(p.user, booking_id))


@router.post("/booking-links", status_code=201)
def create_link(body: LinkIn, p: ProviderStaff, s: ServicesDep) -> LinkOut:
    """For reminders: a signed link that opens the booking page of one device."""
    tenant_id, _ = s.registry.tenant_of(body.device_id)
    expires = s.runtime.now().date() + timedelta(days=body.valid_days)
    return LinkOut(url=booking_link_url(s, tenant_id, body.device_id, expires), expires=expires)
