"""Plan the reminder steps of a due item or a new account (pure): sequence × recipients ×
channels, moved out of quiet hours, with A/B variant, booking link and text."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from labcal_cloud.booking.links import BookingLink, sign_booking_link
from labcal_cloud.engine.due import DueState
from labcal_cloud.notify.experiments import Variant, assign_variant
from labcal_cloud.notify.messages import render_due_step, render_onboarding_step
from labcal_cloud.notify.preferences import Recipient, deliver_at
from labcal_cloud.notify.sequence import ONBOARDING_SEQUENCE, SequenceSpec, plan_steps
from labcal_cloud.notify.steps import NewStep

__all__ = ["DueItem", "plan_due_reminders", "plan_onboarding"]


@dataclass(frozen=True, slots=True)
class DueItem:
    """A device that is (or will be) due: what the reminder texts need."""

    tenant: str
    device_id: str
    model: str
    serial: str
    state: DueState


def plan_due_reminders(
    item: DueItem,
    recipients: Sequence[Recipient],
    spec: SequenceSpec,
    *,
    now: datetime,
    link_key: bytes,
    booking_base_url: str,
    link_valid_days: float = 60,
    experiment: str = "",
    variants: Sequence[Variant] = (),
) -> list[NewStep]:
    """Steps for every recipient and each of their channels. The one-click link is the
    portal's signed booking link (``labcal_cloud.booking.links``: tenant, device, expiry,
    HMAC), ``{booking_base_url}?token=…`` — the portal's ``/book`` page verifies it, and the
    booking it leads to stops the sequence (``ReminderControl``)."""
    steps: list[NewStep] = []
    expires = (now + timedelta(days=link_valid_days)).date()
    token = sign_booking_link(link_key, BookingLink(item.tenant, item.device_id, expires))
    url = f"{booking_base_url}?token={token}"
    for r in recipients:
        variant = assign_variant(experiment, r.user_id, variants) if variants else None
        shift = timedelta(days=variant.offset_shift_days) if variant else timedelta(0)
        for planned in plan_steps(spec, item.state.due_at + shift, now):
            message = render_due_step(
                planned.step,
                model=item.model,
                serial=item.serial,
                due_date=item.state.due_at.date().isoformat(),
                reason=item.state.reason,
                booking_url=url,
                subject_template=variant.subject if variant else None,
            )
            for channel, address in r.addresses:
                steps.append(
                    NewStep(
                        tenant=item.tenant,
                        sequence=spec.name,
                        subject_key=item.device_id,
                        step=planned.step,
                        recipient=r.user_id,
                        channel=channel.value,
                        address=address,
                        subject=message.subject,
                        body=message.body,
                        send_at=deliver_at(planned.send_at, r, channel),
                        variant=variant.name if variant else "",
                    )
                )
    return steps


def plan_onboarding(
    tenant: str,
    account_id: str,
    recipient: Recipient,
    name: str,
    portal_url: str,
    *,
    created_at: datetime,
    now: datetime,
) -> list[NewStep]:
    """Welcome, day 3 and day 7 — on the same engine as the due reminders."""
    steps = []
    for planned in plan_steps(ONBOARDING_SEQUENCE, created_at, now):
        message = render_onboarding_step(planned.step, name=name, portal_url=portal_url)
        for channel, address in recipient.addresses:
            steps.append(
                NewStep(
                    tenant=tenant,
                    sequence=ONBOARDING_SEQUENCE.name,
                    subject_key=account_id,
                    step=planned.step,
                    recipient=recipient.user_id,
                    channel=channel.value,
                    address=address,
                    subject=message.subject,
                    body=message.body,
                    send_at=deliver_at(planned.send_at, recipient, channel),
                )
            )
    return steps
