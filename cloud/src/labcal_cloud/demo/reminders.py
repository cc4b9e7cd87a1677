"""Due states of a tenant's devices (the engine's ``compute_due``) and the reminder steps they
call for (the notify planner), on the portal inbox channel of the tenant's lab admins."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from labcal_cloud.accounts.model import Role, User
from labcal_cloud.engine.due import DeviceFacts, DuePolicy, DueState, DueStatus, compute_due
from labcal_cloud.notify.planner import DueItem, plan_due_reminders
from labcal_cloud.notify.preferences import Channel, Recipient
from labcal_cloud.notify.sequence import DUE_SEQUENCE
from labcal_cloud.portal.services import Services
from labcal_cloud.registry.model import Device
from labcal_cloud.registry.store import DEVICE_COLUMNS, device_from_row
from labcal_cloud.scheduler.ports import NewStep

__all__ = ["DuePass", "due_state", "plan_steps_for", "recompute"]

REMIND = frozenset({DueStatus.DUE_SOON, DueStatus.DUE, DueStatus.OVERDUE})


@dataclass(frozen=True, slots=True)
class DuePass:
    by_status: dict[str, int]
    steps: list[NewStep]


def _utc(at: datetime | None) -> datetime | None:
    """The registry keeps some times without a zone (dates of imports): they are UTC."""
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


def due_state(device: Device, passed: bool, now: datetime) -> DueState:
    """The engine's due state of a registered device (time, usage against its limit)."""
    facts = DeviceFacts(
        registered_at=_utc(device.registered_at) or now,
        last_calibration_at=_utc(device.last_calibrated_at),
        last_calibration_passed=passed,
        cycles_since_calibration=max(0, device.usage_cycles),
    )
    policy = DuePolicy(
        interval_days=float(device.interval_days),
        cycle_limit=device.cycles_limit if device.cycles_limit > 0 else None,
    )
    return compute_due(facts, policy, now)


def plan_steps_for(
    tenant: str,
    devices: Sequence[tuple[Device, DueState]],
    admins: Sequence[User],
    *,
    now: datetime,
    link_key: bytes,
    booking_base_url: str,
) -> list[NewStep]:
    """Inbox reminders for every device that is due soon, due or overdue (pure)."""
    recipients = [
        Recipient(u.id, ((Channel.INBOX, u.email),), quiet_start=None, quiet_end=None)
        for u in admins
    ]
    steps: list[NewStep] = []
    for device, state in devices:
        if state.status not in REMIND:
            continue
        item = DueItem(tenant, device.id, device.model, device.serial, state)
        steps += plan_due_reminders(
            item,
            recipients,
            DUE_SEQUENCE,
            now=now,
            link_key=link_key,
            booking_base_url=booking_base_url,
        )
    return steps


def recompute(services: Services, tenant: str, now: datetime) -> DuePass:
    """Recompute every device's due state in ``tenant`` and plan the reminders."""
    db = services.db
    rows = db.query(f"SELECT {DEVICE_COLUMNS} FROM portal_devices WHERE tenant_id = ?", (tenant,))
    failed = {
        str(r[0])
        for r in db.query(
            "SELECT c.device_id FROM portal_calibrations c WHERE c.tenant_id = ? AND c.passed = 0"
            " AND c.performed_at = (SELECT max(x.performed_at) FROM portal_calibrations x"
            " WHERE x.device_id = c.device_id)",
            (tenant,),
        )
    }
    states = []
    for r in rows:
        device = device_from_row(r)
        states.append((device, due_state(device, device.id not in failed, now)))
    admins = [u for u in services.accounts.users(tenant) if u.role is Role.LAB_ADMIN]
    steps = plan_steps_for(
        tenant,
        states,
        admins,
        now=now,
        link_key=services.link_secret,
        booking_base_url=f"{services.settings.base_url}/book",
    )
    return DuePass(dict(Counter(s.status.value for _, s in states)), steps)
