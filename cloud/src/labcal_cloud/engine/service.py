"""The engine's service layer: turn stored runs into records and keep due states current.

Orchestration only (ports in, events out); the rules live in the pure modules.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError

from labcal_cloud.engine.device_facts import device_facts
from labcal_cloud.engine.due import DuePolicy, compute_due, due_state_change
from labcal_cloud.engine.errors import RecordRejectedError
from labcal_cloud.engine.ports import EngineRepository, EventPublisher
from labcal_cloud.engine.records import record_from_run
from labcal_cloud.notify.webhooks import (
    WebhookEvent,
    calibration_completed,
    due_state_changed,
)
from labcal_shared.contracts import GravimetricRun

__all__ = ["RecordsResult", "process_runs", "refresh_due_states"]


@dataclass(frozen=True, slots=True)
class RecordsResult:
    recorded: int
    rejected: int


def process_runs(
    repo: EngineRepository,
    publisher: EventPublisher,
    *,
    now: Callable[[], datetime],
    new_id: Callable[[], uuid.UUID] = uuid.uuid4,
    batch: int = 500,
) -> RecordsResult:
    """Evaluate every stored run that has no record yet; a run that cannot be a record gets a
    rejection row with the reason (and is not tried again)."""
    recorded = rejected = 0
    while pending := repo.unrecorded_runs(batch):
        for run in pending:
            try:
                message = GravimetricRun.model_validate(run.payload)
                known, until = repo.balance_valid_until(run.tenant, message.balance.serial)
                record = record_from_run(
                    message,
                    record_id=new_id(),
                    recorded_at=now(),
                    balance_valid_until=until,
                    balance_known=known,
                )
            except (ValidationError, RecordRejectedError) as exc:
                repo.reject_run(run.tenant, run.message_id, str(exc).splitlines()[0], now())
                rejected += 1
                continue
            repo.save_record(run.tenant, run.message_id, record)
            publisher.publish(
                run.tenant,
                WebhookEvent.CALIBRATION_COMPLETED.value,
                f"calibration-{record.record_id}",
                calibration_completed(record),
                now(),
            )
            recorded += 1
    return RecordsResult(recorded, rejected)


def refresh_due_states(
    repo: EngineRepository,
    publisher: EventPublisher,
    policy: DuePolicy,
    *,
    now: datetime,
) -> int:
    """Recompute every pipette's due state; store and publish the changes. Returns their count."""
    changes = 0
    for tenant, serial in repo.pipettes():
        inputs = repo.device_inputs(tenant, serial)
        facts = device_facts(
            registered_at=inputs.registered_at,
            records=inputs.records,
            usage=inputs.usage,
            drops=inputs.drops,
            policy=policy,
            now=now,
        )
        state = compute_due(facts, policy, now)
        change = due_state_change(repo.due_state(tenant, serial), state, now)
        repo.save_due_state(tenant, serial, state, change)
        if change is not None:
            changes += 1
            publisher.publish(
                tenant,
                WebhookEvent.DUE_STATE_CHANGED.value,
                f"due-{tenant}-{serial}-{now.isoformat()}",
                due_state_changed(serial, change),
                now,
            )
    return changes
