"""Plan portal users' due reminders into the scheduler's tables (SQLite or PostgreSQL, through the
SQL gateway): one planning pass of ``labcal-cloud scheduler plan``.

From the engine's stored due states (``device_due_state``) of registered devices and the portal's
users with their reminder preferences (``portal_notification_prefs``), the pure planner
(``notify.planner``) makes the nudge steps; ``SqlReminderStore.enqueue`` stores each step once
(unique per tenant, sequence, device, step, recipient, channel), so planning again never doubles a
step and a step a booking cancelled stays cancelled while the booking holds. A device with an
active booking (``booking.store.ACTIVE_BOOKING``: confirmed, not done, its day not more than 14
days past) gets no new steps; once a booking was missed, the steps it stopped are planned again.

A step's key carries the device's calibration cycle (``initial@2026-03-01``): the date of its
latest calibration — the engine's latest ``calibration_record`` of kind ``calibration`` for the
device, or the portal's ``last_calibrated_at`` when that is later or there is no record —, else
``never``. So every new calibration starts a cycle whose steps are planned anew. A device the
engine calls ok again has its pending due steps cancelled (``no longer due``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from labcal_cloud.booking.store import ACTIVE_BOOKING, active_booking_since
from labcal_cloud.db.gateway import Database, Row, placeholders
from labcal_cloud.engine.due import DueBasis, DueState, DueStatus
from labcal_cloud.engine.errors import PolicyError
from labcal_cloud.notify.planner import DueItem, plan_due_reminders
from labcal_cloud.notify.preferences import Recipient
from labcal_cloud.notify.recipients import StoredPreferences, recipient_for
from labcal_cloud.notify.sequence import DUE_SEQUENCE, SequenceSpec
from labcal_cloud.notify.steps import NewStep
from labcal_cloud.scheduler.reminder_store import BOOKED, SqlReminderStore

__all__ = [
    "DUE_STATE_DEVICE_JOIN",
    "RECIPIENT_ROLES",
    "REMIND",
    "PlanResult",
    "cycle_of",
    "plan_due_reminder_steps",
]

REMIND = (DueStatus.DUE_SOON, DueStatus.DUE, DueStatus.OVERDUE)
RECIPIENT_ROLES = ("lab_admin", "lab_user")

DUE_STATE_DEVICE_JOIN = "JOIN portal_devices d ON d.id = e.device_id AND d.tenant_id = e.tenant"
"""The one join of the engine's due state (``e``) to the registry's device (``d``): by the
registry's device id, which the engine stores with the state of every registered device."""

_DEVICES = f"""
SELECT d.tenant_id, d.id, d.model, d.serial, e.status, e.basis, e.due_at, e.reason,
       d.last_calibrated_at,
       (SELECT MAX(c.ended_at) FROM calibration_record c
        WHERE c.tenant = d.tenant_id AND c.pipette_serial = d.serial AND c.pipette_model = d.model
          AND c.kind = 'calibration'),
       EXISTS (SELECT 1 FROM portal_booking_devices bd
               JOIN portal_bookings b ON b.id = bd.booking_id
               WHERE bd.device_id = d.id AND {ACTIVE_BOOKING})
FROM device_due_state e
{DUE_STATE_DEVICE_JOIN}
WHERE e.status IN ({placeholders(len(REMIND))})
ORDER BY d.tenant_id, d.serial, d.id
"""
_CANCEL_OK = f"""
UPDATE reminder_step SET status = 'cancelled', cancel_reason = 'no longer due'
WHERE sequence = ? AND status = 'pending' AND EXISTS (
    SELECT 1 FROM device_due_state e {DUE_STATE_DEVICE_JOIN}
    WHERE e.status = 'ok' AND d.tenant_id = reminder_step.tenant
      AND d.id = reminder_step.subject_key)
"""
_USERS = f"""
SELECT u.tenant_id, u.id, u.email, p.user_id IS NOT NULL, p.channels, p.phone, p.push_token,
       p.time_zone, p.quiet_start, p.quiet_end
FROM portal_users u LEFT JOIN portal_notification_prefs p ON p.user_id = u.id
WHERE u.deleted_at IS NULL AND u.role IN ({placeholders(len(RECIPIENT_ROLES))})
ORDER BY u.id
"""
_STOPPED = """
SELECT DISTINCT tenant, subject_key FROM reminder_step
WHERE sequence = ? AND status = 'cancelled' AND cancel_reason LIKE ?
"""


@dataclass(frozen=True, slots=True)
class PlanResult:
    devices: int  # due soon, due or overdue, not booked
    booked: int  # due but booked: no new steps
    planned: int  # steps the planner made
    added: int  # steps new in the store (the rest were planned before)
    cancelled: int  # pending steps of devices that are ok again
    bad_preferences: tuple[str, ...]  # users whose stored preferences are unusable: defaults used
    resumed: int = 0  # steps a missed booking had stopped, pending again


def cycle_of(last_record_at: object, last_calibrated_at: object) -> str:
    """The calibration cycle of a step key: the date of the latest calibration known (the
    engine's record or the portal's date, whichever is later), ``never`` before the first."""
    dates: list[date] = []
    at = Database.read_at(last_record_at)
    if at is not None:
        dates.append(at.date())
    if last_calibrated_at:
        dates.append(date.fromisoformat(str(last_calibrated_at)[:10]))
    return max(dates).isoformat() if dates else "never"


def _recipients(rows: list[Row]) -> tuple[dict[str, list[Recipient]], list[str]]:
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


def _state(status: Any, basis: Any, due_at: Any, reason: Any) -> DueState:
    at = Database.read_at(due_at)
    assert at is not None  # NOT NULL
    return DueState(DueStatus(status), DueBasis(basis), at, str(reason))


def plan_due_reminder_steps(
    db: Database,
    *,
    now: datetime,
    link_key: bytes,
    booking_base_url: str,
    spec: SequenceSpec = DUE_SEQUENCE,
) -> PlanResult:
    """Plan and store the due reminders of every tenant's due devices for their lab users."""
    cancelled = db.execute(_CANCEL_OK, (spec.name,))
    devices = db.query(_DEVICES, (active_booking_since(now.date()), *(s.value for s in REMIND)))
    recipients, bad = _recipients(db.query(_USERS, RECIPIENT_ROLES))
    steps: list[NewStep] = []
    booked = due = 0
    for tenant, device_id, model, serial, *state, last, record_at, is_booked in devices:
        if is_booked:
            booked += 1
            continue
        due += 1
        cycle = cycle_of(record_at, last)
        steps += [
            replace(step, step=f"{step.step}@{cycle}")
            for step in plan_due_reminders(
                DueItem(tenant, device_id, model, serial, _state(*state)),
                recipients.get(tenant, []),
                spec,
                now=now,
                link_key=link_key,
                booking_base_url=booking_base_url,
            )
        ]
    store = SqlReminderStore(db)
    with db.transaction():
        added = store.enqueue(steps)
        stopped = {(r[0], r[1]) for r in db.query(_STOPPED, (spec.name, f"{BOOKED}%"))}
        resumed = store.revive_booked([s for s in steps if (s.tenant, s.subject_key) in stopped])
    return PlanResult(due, booked, len(steps), added, cancelled, tuple(bad), resumed)
