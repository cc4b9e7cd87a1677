"""Booking service over SQL: technicians, slots, book/reschedule/cancel, e-mail, reminder stop.

A booking is ``confirmed`` until it is cancelled or ``done``: done when a calibration of one
of its devices is recorded after the booking was made (:meth:`Bookings.complete_for_device`,
called by the pipeline that certifies a calibration). A confirmed booking whose day lies more
than :data:`MISSED_AFTER_DAYS` in the past was missed: it no longer holds its devices (they can
be booked again, and their reminders resume, see :func:`active_booking_since`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from labcal_cloud.accounts.errors import ConflictError, InvalidInputError, NotFoundError
from labcal_cloud.accounts.model import User
from labcal_cloud.accounts.store import Accounts
from labcal_cloud.booking.planning import Slot, Technician, free_technician, suggest_slots
from labcal_cloud.booking.ports import Mailer, ReminderControl
from labcal_cloud.db.gateway import Database, Row
from labcal_cloud.portal.runtime import Runtime
from labcal_cloud.registry.store import Registry, day_of

__all__ = [
    "ACTIVE_BOOKING",
    "MISSED_AFTER_DAYS",
    "AlreadyBookedError",
    "BookedFor",
    "Booking",
    "Bookings",
    "active_booking_since",
]

MISSED_AFTER_DAYS = 14
ACTIVE_BOOKING = "b.status = 'confirmed' AND b.day >= ?"
"""SQL (booking alias ``b``, one parameter: :func:`active_booking_since`) of a booking that
holds its devices: confirmed, not done, and its day not more than 14 days past."""


def active_booking_since(today: date) -> str:
    """The parameter of :data:`ACTIVE_BOOKING`: the earliest day of a booking still held."""
    return (today - timedelta(days=MISSED_AFTER_DAYS)).isoformat()


@dataclass(frozen=True, slots=True)
class BookedFor:
    """The active booking a device is in."""

    booking_id: str
    day: date


class AlreadyBookedError(ConflictError):
    """A device to book is in an active booking already: names it and that booking."""

    def __init__(self, serial: str, booking_id: str, day: date) -> None:
        super().__init__(f"device SN {serial} is already booked for {day.isoformat()}")
        self.serial, self.booking_id, self.day = serial, booking_id, day


_COLS = "id, tenant_id, site_id, technician_id, day, pickup, status, created_by"


@dataclass(frozen=True)
class Booking:
    id: str
    tenant_id: str
    site_id: str
    technician_id: str
    day: date
    pickup: bool
    status: str
    created_by: str
    device_ids: tuple[str, ...]


class Bookings:
    def __init__(
        self,
        db: Database,
        runtime: Runtime,
        accounts: Accounts,
        registry: Registry,
        reminders: ReminderControl,
        mailer: Mailer,
        base_url: str,
    ) -> None:
        self._db, self._rt, self._accounts, self._registry = db, runtime, accounts, registry
        self._reminders, self._mailer, self._base_url = reminders, mailer, base_url

    # -- capacity ----------------------------------------------------------------------------
    def add_technician(self, name: str, weekdays: Sequence[int], daily_slots: int) -> Technician:
        if not name.strip() or daily_slots < 1 or not weekdays:
            raise InvalidInputError("a technician needs a name, weekdays and at least one slot")
        if any(not 0 <= d <= 6 for d in weekdays):
            raise InvalidInputError("weekdays are 0 (Monday) to 6 (Sunday)")
        tech = Technician(self._rt.new_id(), name.strip(), frozenset(weekdays), daily_slots)
        self._db.execute(
            "INSERT INTO portal_technicians (id, name, weekdays, daily_slots) VALUES (?, ?, ?, ?)",
            (tech.id, tech.name, ",".join(str(d) for d in sorted(weekdays)), daily_slots),
        )
        return tech

    def technicians(self) -> list[Technician]:
        rows = self._db.query("SELECT id, name, weekdays, daily_slots FROM portal_technicians")
        return [
            Technician(r[0], r[1], frozenset(int(d) for d in r[2].split(",") if d), int(r[3]))
            for r in rows
        ]

    def _booked(self, start: date, end: date) -> dict[tuple[date, str], int]:
        rows = self._db.query(
            "SELECT day, technician_id, COUNT(*) FROM portal_bookings WHERE status = 'confirmed'"
            " AND day >= ? AND day <= ? GROUP BY day, technician_id",
            (start.isoformat(), end.isoformat()),
        )
        return {(date.fromisoformat(r[0]), r[1]): int(r[2]) for r in rows}

    def slots(self, start: date | None = None, count: int = 5) -> list[Slot]:
        first = max(start or self._today(), self._today() + timedelta(days=1))
        return suggest_slots(
            self.technicians(), self._booked(first, first + timedelta(days=90)), first, count
        )

    # -- bookings ----------------------------------------------------------------------------
    def book(
        self, user: User, site_id: str, day: date, device_ids: Sequence[str], pickup: bool = False
    ) -> Booking:
        tenant_id = user.tenant_id
        site = self._accounts.site(tenant_id, site_id)
        ids = list(dict.fromkeys(device_ids))
        if not ids:
            raise InvalidInputError("choose at least one device")
        for device_id in ids:
            device = self._registry.device(tenant_id, device_id)
            if device.site_id != site.id:
                raise InvalidInputError(f"device {device.serial} is not at site {site.name}")
        with self._db.transaction():
            active = self._db.one(
                "SELECT b.day, b.id, bd.device_id FROM portal_booking_devices bd"
                f" JOIN portal_bookings b ON b.id = bd.booking_id WHERE {ACTIVE_BOOKING}"
                f" AND bd.device_id IN ({', '.join('?' * len(ids))}) ORDER BY b.day",
                [active_booking_since(self._today()), *ids],
            )
            if active is not None:
                device = self._registry.device(tenant_id, active[2])
                raise AlreadyBookedError(device.serial, str(active[1]), day_of(active[0]))
            slot = self._slot(day)
            booking_id = self._rt.new_id()
            self._db.execute(
                f"INSERT INTO portal_bookings ({_COLS}, created_at) VALUES (?, ?, ?, ?, ?, ?,"
                " 'confirmed', ?, ?)",
                (
                    booking_id,
                    tenant_id,
                    site.id,
                    slot.technician_id,
                    day.isoformat(),
                    int(pickup),
                    user.id,
                    self._rt.now().isoformat(),
                ),
            )
            self._db.executemany(
                "INSERT INTO portal_booking_devices (booking_id, device_id) VALUES (?, ?)",
                [(booking_id, d) for d in ids],
            )
        booking = self.get(tenant_id, booking_id)
        self._reminders.stop(tenant_id, ids, f"booked for {day.isoformat()}")
        self._mail(user, booking, "confirmed")
        return booking

    def reschedule(self, user: User, booking_id: str, day: date) -> Booking:
        booking = self._active(user.tenant_id, booking_id)
        with self._db.transaction():
            self._db.execute(
                "UPDATE portal_bookings SET status = 'cancelled' WHERE id = ?", (booking.id,)
            )
            try:
                slot = self._slot(day)
            finally:
                self._db.execute(
                    "UPDATE portal_bookings SET status = 'confirmed' WHERE id = ?", (booking.id,)
                )
            self._db.execute(
                "UPDATE portal_bookings SET day = ?, technician_id = ? WHERE id = ?",
                (day.isoformat(), slot.technician_id, booking.id),
            )
        updated = self.get(user.tenant_id, booking.id)
        self._mail(user, updated, "rescheduled")
        return updated

    def cancel(self, user: User, booking_id: str) -> Booking:
        booking = self._active(user.tenant_id, booking_id)
        self._db.execute(
            "UPDATE portal_bookings SET status = 'cancelled' WHERE id = ?", (booking.id,)
        )
        self._reminders.resume(user.tenant_id, booking.device_ids)
        cancelled = self.get(user.tenant_id, booking.id)
        self._mail(user, cancelled, "cancelled")
        return cancelled

    def get(self, tenant_id: str, booking_id: str) -> Booking:
        row = self._db.one(
            f"SELECT {_COLS} FROM portal_bookings WHERE id = ? AND tenant_id = ?",
            (booking_id, tenant_id),
        )
        if row is None:
            raise NotFoundError("booking not found")
        return self._booking(row)

    def of_tenant(self, tenant_id: str) -> list[Booking]:
        rows = self._db.query(
            f"SELECT {_COLS} FROM portal_bookings WHERE tenant_id = ? ORDER BY day DESC",
            (tenant_id,),
        )
        return [self._booking(r) for r in rows]

    def active_by_device(self, tenant_id: str) -> dict[str, BookedFor]:
        """Each device of the tenant in an active booking: which booking, on which day."""
        rows = self._db.query(
            "SELECT bd.device_id, b.id, b.day FROM portal_booking_devices bd JOIN portal_bookings"
            f" b ON b.id = bd.booking_id WHERE {ACTIVE_BOOKING} AND b.tenant_id = ?"
            " ORDER BY b.day DESC",
            (active_booking_since(self._today()), tenant_id),
        )
        return {r[0]: BookedFor(str(r[1]), day_of(r[2])) for r in rows}

    def booked_device_ids(self, tenant_id: str) -> set[str]:
        """Devices of the tenant in an active booking (not offered for another one)."""
        rows = self._db.query(
            "SELECT bd.device_id FROM portal_booking_devices bd JOIN portal_bookings b"
            f" ON b.id = bd.booking_id WHERE {ACTIVE_BOOKING} AND b.tenant_id = ?",
            (active_booking_since(self._today()), tenant_id),
        )
        return {r[0] for r in rows}

    def complete_for_device(self, tenant_id: str, device_id: str, at: datetime) -> int:
        """A calibration of the device was recorded at ``at``: its confirmed bookings made
        before then are ``done``. Returns how many bookings became done."""
        with self._db.transaction():
            rows = self._db.query(
                "SELECT b.id, b.created_at FROM portal_bookings b JOIN portal_booking_devices bd"
                " ON bd.booking_id = b.id WHERE b.tenant_id = ? AND bd.device_id = ?"
                " AND b.status = 'confirmed'",
                (tenant_id, device_id),
            )
            done = [r[0] for r in rows if _aware(datetime.fromisoformat(r[1])) <= _aware(at)]
            for booking_id in done:
                self._db.execute(
                    "UPDATE portal_bookings SET status = 'done' WHERE id = ?", (booking_id,)
                )
        return len(done)

    def created_by(self, user_id: str) -> list[Booking]:
        rows = self._db.query(
            f"SELECT {_COLS} FROM portal_bookings WHERE created_by = ?", (user_id,)
        )
        return [self._booking(r) for r in rows]

    # -- helpers -------------------------------------------------------------------------------
    def _today(self) -> date:
        return self._rt.now().date()

    def _slot(self, day: date) -> Slot:
        if day <= self._today():
            raise InvalidInputError("choose a day after today")
        slot = free_technician(self.technicians(), self._booked(day, day), day)
        if slot is None:
            raise ConflictError(f"no free capacity on {day.isoformat()}; choose another day")
        return slot

    def _active(self, tenant_id: str, booking_id: str) -> Booking:
        booking = self.get(tenant_id, booking_id)
        if booking.status != "confirmed":
            raise ConflictError(f"the booking is {booking.status}")
        return booking

    def _booking(self, r: Row) -> Booking:
        devices = self._db.query(
            "SELECT device_id FROM portal_booking_devices WHERE booking_id = ? ORDER BY device_id",
            (r[0],),
        )
        return Booking(
            r[0],
            r[1],
            r[2],
            r[3],
            date.fromisoformat(r[4]),
            bool(r[5]),
            r[6],
            r[7],
            tuple(d[0] for d in devices),
        )

    def _mail(self, user: User, booking: Booking, what: str) -> None:
        site = self._accounts.site(booking.tenant_id, booking.site_id)
        how = "We pick the devices up" if booking.pickup else "Our technician visits"
        body = (
            f"Hello {user.name},\n\nyour calibration booking is {what}.\n\n"
            f"Day: {booking.day.isoformat()}\nSite: {site.name}\n"
            f"Devices: {len(booking.device_ids)}\n"
            f"{how} on that day.\n\nManage it: {self._base_url}/bookings/{booking.id}\n"
        )
        self._mailer.send(user.email, f"LabCal booking {what}: {booking.day.isoformat()}", body)


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
