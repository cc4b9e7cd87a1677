"""The booking side's ``ReminderControl`` port (``labcal_cloud.booking.ports``), on the
scheduler's PostgreSQL store: a booking stops the devices' sequences and counts as a
conversion; a cancelled booking resumes the steps still ahead."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from labcal_cloud.scheduler.pg_store import PostgresReminderStore

__all__ = ["PostgresReminderControl"]


class PostgresReminderControl:
    def __init__(self, store: PostgresReminderStore, now: Callable[[], datetime]) -> None:
        self._store, self._now = store, now

    def stop(self, tenant_id: str, device_ids: Sequence[str], reason: str) -> None:
        for device in device_ids:
            self._store.record_booking(
                tenant_id, device, None, self._now(), reason=f"booked: {reason}"
            )

    def resume(self, tenant_id: str, device_ids: Sequence[str]) -> None:
        for device in device_ids:
            self._store.resume_subject(tenant_id, device, self._now())
