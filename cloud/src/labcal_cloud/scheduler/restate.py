"""Restate a claimed due step from the device's current due state before it is delivered (the
SQL side of ``notify.restate``), and keep the stored step's text equal to what was sent."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from labcal_cloud.db.gateway import Database
from labcal_cloud.engine.due import DueStatus
from labcal_cloud.notify.messages import Message
from labcal_cloud.notify.restate import restate_due_step
from labcal_cloud.notify.sequence import DUE_SEQUENCE
from labcal_cloud.scheduler.due_planning import DUE_STATE_DEVICE_JOIN
from labcal_cloud.scheduler.ports import ClaimedStep

__all__ = ["DueRestater"]

_CURRENT = f"""
SELECT d.model, d.serial, e.status, e.due_at, e.reason
FROM device_due_state e
{DUE_STATE_DEVICE_JOIN}
WHERE d.tenant_id = ? AND d.id = ?
"""


class DueRestater:
    """``restater(step, now)``: a due step with its subject and body from the due state at
    ``now`` (other sequences, and devices without a due state, unchanged)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def __call__(self, step: ClaimedStep, now: datetime) -> ClaimedStep:
        if step.sequence != DUE_SEQUENCE.name:
            return step
        row = self._db.one(_CURRENT, (step.tenant, step.subject_key))
        if row is None:
            return step
        model, serial, status, due_at, reason = row
        at = Database.read_at(due_at)
        if at is None:
            return step
        message = restate_due_step(
            step.step,
            Message(step.subject, step.body),
            model=model,
            serial=serial,
            status=DueStatus(status),
            due_at=at,
            reason=str(reason),
            now=now,
            variant_subject=bool(step.variant),
        )
        if (message.subject, message.body) == (step.subject, step.body):
            return step
        self._db.execute(
            "UPDATE reminder_step SET subject = ?, body = ? WHERE id = ?",
            (message.subject, message.body, step.id),
        )
        return replace(step, subject=message.subject, body=message.body)
