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
from labcal_cloud.engine.forecast import WearObservation
from labcal_cloud.engine.maintenance import (
    forecast_device,
    model_priors,
    observations_since_service,
)
from labcal_cloud.engine.ports import EngineRepository, EventPublisher, ForecastStore
from labcal_cloud.engine.records import record_from_run
from labcal_cloud.notify.webhooks import (
    WebhookEvent,
    calibration_completed,
    due_state_changed,
    maintenance_forecast,
)
from labcal_shared.contracts import GravimetricRun

__all__ = ["RecordsResult", "process_runs", "refresh_due_states", "refresh_forecasts"]


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


def refresh_forecasts(
    repo: EngineRepository,
    forecasts: ForecastStore,
    publisher: EventPublisher,
    *,
    now: datetime,
    guard: float = 0.8,
    lead_days: float = 30.0,
) -> int:
    """Forecast every pipette (prior: its model's fleet); store it, and publish
    ``maintenance.forecast`` when an alert is raised (not again while it stays raised).
    Returns the number of alerts raised."""
    inputs = {key: repo.device_inputs(*key) for key in repo.pipettes()}
    observed = {
        key: observations_since_service(i.records, i.since_service) for key, i in inputs.items()
    }
    by_model: dict[str, list[list[WearObservation]]] = {}
    for key, i in inputs.items():
        by_model.setdefault(i.model, []).append(observed[key])
    priors = model_priors(by_model)
    raised = 0
    for (tenant, serial), i in inputs.items():
        forecast = forecast_device(
            priors[i.model],
            observed[(tenant, serial)],
            i.usage,
            i.since_service,
            now=now,
            guard=guard,
            lead_days=lead_days,
        )
        was = forecasts.forecast_alert(tenant, serial)
        forecasts.save_forecast(tenant, serial, forecast, now)
        if forecast.alert and not was:
            raised += 1
            publisher.publish(
                tenant,
                WebhookEvent.MAINTENANCE_FORECAST.value,
                f"forecast-{tenant}-{serial}-{now.isoformat()}",
                maintenance_forecast(serial, forecast),
                now,
            )
    return raised
