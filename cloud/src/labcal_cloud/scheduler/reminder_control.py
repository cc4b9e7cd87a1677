"""The booking side's ``ReminderControl`` port (``labcal_cloud.booking.ports``) on the
scheduler's reminder store (SQLite or PostgreSQL): a booking stops the devices' sequences and
counts as a conversion; a cancelled booking resumes the steps still ahead."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from labcal_cloud.scheduler.reminder_store import BOOKED, SqlReminderStore

__all__ = ["SqlReminderControl"]


class SqlReminderControl:
    def __init__(self, store: SqlReminderStore, now: Callable[[], datetime]) -> None:
        self._store, self._now = store, now

    def stop(self, tenant_id: str, device_ids: Sequence[str], reason: str) -> None:
        for device in device_ids:
            self._store.record_booking(
                tenant_id, device, None, self._now(), reason=f"{BOOKED}: {reason}"
            )

    def resume(self, tenant_id: str, device_ids: Sequence[str]) -> None:
        for device in device_ids:
            self._store.resume_subject(tenant_id, device, self._now())
