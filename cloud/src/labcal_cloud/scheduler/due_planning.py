"""Plan portal users' due reminders into the scheduler's tables (PostgreSQL shell).

From the engine's stored due states (``device_due_state``, written by ``labcal-cloud engine
due``) of registered devices and the portal's users with their reminder preferences
(``portal_notification_prefs``), the pure planner (``notify.planner``) makes the nudge steps;
``PostgresReminderStore.enqueue`` stores each step once (unique per tenant, sequence, device,
step, recipient, channel), so planning again never doubles a step and a step a booking cancelled
stays cancelled. A device with a confirmed booking gets no new steps.

A step's key carries the device's calibration cycle (``initial@2026-03-01``: the portal's last
calibration date, ``never`` before the first), so the next due cycle after a calibration plans
its own steps; a device the engine calls ok again has its pending due steps cancelled
(``no longer due``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import psycopg

from labcal_cloud.engine.due import DueBasis, DueState, DueStatus
from labcal_cloud.engine.errors import PolicyError
from labcal_cloud.notify.planner import DueItem, plan_due_reminders
from labcal_cloud.notify.preferences import Recipient
from labcal_cloud.notify.recipients import StoredPreferences, recipient_for
from labcal_cloud.notify.sequence import DUE_SEQUENCE, SequenceSpec
from labcal_cloud.scheduler.pg_store import PostgresReminderStore
from labcal_cloud.scheduler.ports import NewStep

__all__ = ["RECIPIENT_ROLES", "REMIND", "PlanResult", "plan_due_reminder_steps"]

REMIND = (DueStatus.DUE_SOON, DueStatus.DUE, DueStatus.OVERDUE)
RECIPIENT_ROLES = ("lab_admin", "lab_user")

_DEVICES = """
SELECT d.tenant_id, d.id, d.model, d.serial, e.status, e.basis, e.due_at, e.reason,
       d.last_calibrated_at,
       EXISTS (SELECT 1 FROM portal_booking_devices bd
               JOIN portal_bookings b ON b.id = bd.booking_id
               WHERE bd.device_id = d.id AND b.status = 'confirmed')
FROM device_due_state e
JOIN portal_devices d ON d.tenant_id = e.tenant AND d.serial = e.device_serial
WHERE e.status = ANY(%s)
ORDER BY d.tenant_id, d.serial, d.id
"""
_CANCEL_OK = """
UPDATE reminder_step s SET status = 'cancelled', cancel_reason = 'no longer due'
FROM device_due_state e JOIN portal_devices d
     ON d.tenant_id = e.tenant AND d.serial = e.device_serial
WHERE e.status = 'ok' AND s.tenant = d.tenant_id AND s.subject_key = d.id
  AND s.sequence = %s AND s.status = 'pending'
"""
_USERS = """
SELECT u.tenant_id, u.id, u.email, p.user_id IS NOT NULL, p.channels, p.phone, p.push_token,
       p.time_zone, p.quiet_start, p.quiet_end
FROM portal_users u LEFT JOIN portal_notification_prefs p ON p.user_id = u.id
WHERE u.deleted_at IS NULL AND u.role = ANY(%s)
ORDER BY u.id
"""


@dataclass(frozen=True, slots=True)
class PlanResult:
    devices: int  # due soon, due or overdue, not booked
    booked: int  # due but booked: no new steps
    planned: int  # steps the planner made
    added: int  # steps new in the store (the rest were planned before)
    cancelled: int  # pending steps of devices that are ok again
    bad_preferences: tuple[str, ...]  # users whose stored preferences are unusable: defaults used


def _recipients(rows: list[tuple[Any, ...]]) -> tuple[dict[str, list[Recipient]], list[str]]:
    by_tenant: dict[str, list[Recipient]] = defaultdict(list)
    bad: list[str] = []
    for tenant, user_id, email, has_prefs, *stored in rows:
        prefs = StoredPreferences(*stored) if has_prefs else StoredPreferences()
        try:
            by_tenant[tenant].append(recipient_for(user_id, email, prefs))
        except PolicyError:
            bad.append(user_id)
            by_tenant[tenant].append(recipient_for(user_id, email, StoredPreferences()))
    return by_tenant, bad


def plan_due_reminder_steps(
    url: str,
    *,
    now: datetime,
    link_key: bytes,
    booking_base_url: str,
    spec: SequenceSpec = DUE_SEQUENCE,
) -> PlanResult:
    """Plan and store the due reminders of every tenant's due devices for their lab users."""
    with psycopg.connect(url) as conn:
        cancelled = conn.execute(_CANCEL_OK, (spec.name,)).rowcount
        devices = conn.execute(_DEVICES, ([s.value for s in REMIND],)).fetchall()
        users = conn.execute(_USERS, (list(RECIPIENT_ROLES),)).fetchall()
    recipients, bad = _recipients(users)
    steps: list[NewStep] = []
    booked = due = 0
    for tenant, device_id, model, serial, status, basis, due_at, reason, last, is_booked in devices:
        if is_booked:
            booked += 1
            continue
        due += 1
        state = DueState(DueStatus(status), DueBasis(basis), due_at, reason)
        cycle = str(last)[:10] if last else "never"
        steps += [
            replace(step, step=f"{step.step}@{cycle}")
            for step in plan_due_reminders(
                DueItem(tenant, device_id, model, serial, state),
                recipients.get(tenant, []),
                spec,
                now=now,
                link_key=link_key,
                booking_base_url=booking_base_url,
            )
        ]
    store = PostgresReminderStore(url)
    try:
        added = store.enqueue(steps)
    finally:
        store.close()
    return PlanResult(due, booked, len(steps), added, cancelled, tuple(bad))
