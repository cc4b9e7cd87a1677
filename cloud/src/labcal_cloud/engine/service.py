"""The engine's service layer: turn stored runs into records and keep due states and
forecasts current, publishing the engine's domain events (:mod:`labcal_cloud.engine.events`).

Orchestration only (ports in, events out); the rules live in the pure modules. Each change and
its event form one unit of work (``repo.transaction()``): a publisher that fails rolls the
change back, so the next pass does it again and no event is ever lost.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from pydantic import ValidationError

from labcal_cloud.engine.device_facts import device_facts
from labcal_cloud.engine.device_prior import device_prior
from labcal_cloud.engine.due import DuePolicy, DueState, compute_due, due_state_change
from labcal_cloud.engine.errors import RecordRejectedError
from labcal_cloud.engine.events import (
    CalibrationRecorded,
    DueStateChangedEvent,
    EventPublisher,
    MaintenanceAlertRaised,
)
from labcal_cloud.engine.forecast import WearObservation
from labcal_cloud.engine.maintenance import (
    forecast_device,
    model_between,
    model_priors,
    observations_by_service,
    observations_since_service,
)
from labcal_cloud.engine.ports import (
    DeviceInputs,
    EngineDevice,
    EngineRepository,
    ForecastStore,
    ServicePolicyStore,
)
from labcal_cloud.engine.records import record_from_run
from labcal_cloud.engine.service_policy import (
    ForecasterSettings,
    OperatingPoint,
    committed_curve,
    settings_for,
)
from labcal_shared.contracts import GravimetricRun

__all__ = [
    "RecordsResult",
    "device_due_state",
    "device_policy",
    "process_runs",
    "refresh_due_states",
    "refresh_forecasts",
]


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
    rejection row with the reason (and is not tried again). A record and its
    ``CalibrationRecorded`` commit together; when publishing fails, neither is kept and the
    error propagates (the run is evaluated again on the next pass)."""
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
                    rule=repo.decision_rule(run.tenant, message.pipette.serial),
                    tolerance=repo.tolerance_table(
                        run.tenant, message.pipette.serial, message.mpe_edition
                    ),
                )
            except (ValidationError, RecordRejectedError) as exc:
                repo.reject_run(run.tenant, run.message_id, str(exc).splitlines()[0], now())
                rejected += 1
                continue
            with repo.transaction():
                repo.save_record(run.tenant, run.message_id, record)
                publisher.publish(CalibrationRecorded(run.tenant, record, now()))
            recorded += 1
    return RecordsResult(recorded, rejected)


def device_policy(defaults: DuePolicy, device: EngineDevice) -> DuePolicy:
    """The device's own policy: the registry's interval and cycle limit over the defaults (the
    due-soon, grace and storage days stay the defaults')."""
    return replace(
        defaults,
        interval_days=device.interval_days or defaults.interval_days,
        cycle_limit=device.cycle_limit or defaults.cycle_limit,
    )


def device_due_state(
    device: EngineDevice, inputs: DeviceInputs, defaults: DuePolicy, now: datetime
) -> DueState:
    """The due state of one device from its stored inputs and the registry's policy/history."""
    policy = device_policy(defaults, device)
    registered = device.registered_at or inputs.registered_at or device.last_calibrated_at or now
    facts = device_facts(
        registered_at=registered,
        records=inputs.records,
        usage=inputs.usage,
        drops=inputs.drops,
        policy=policy,
        now=now,
        imported_calibration_at=device.last_calibrated_at,
        imported_cycles=device.usage_cycles,
    )
    return compute_due(facts, policy, now)


def refresh_due_states(
    repo: EngineRepository,
    publisher: EventPublisher,
    policy: DuePolicy,
    *,
    now: datetime,
    batch: int = 200,
) -> int:
    """Recompute the due state of every device (:meth:`EngineRepository.devices`: every
    registered device, every pipette with usage or records) under its own policy; store it and
    publish a ``DueStateChangedEvent`` for each change. Each ``batch`` of devices is one unit of
    work (states, change log and events commit together; one commit per batch, not per
    query). Returns the number of changes."""
    changes = 0
    devices = repo.devices()
    for start in range(0, len(devices), batch):
        chunk = devices[start : start + batch]
        with repo.transaction():
            keys = [(d.tenant, d.serial) for d in chunk]
            inputs, stored = repo.device_inputs_many(keys), repo.due_states_many(keys)
            found = 0
            for device, key in zip(chunk, keys, strict=True):
                state = device_due_state(device, inputs[key], policy, now)
                change = due_state_change(stored.get(key), state, now)
                repo.save_due_state(
                    device.tenant, device.serial, state, change, device_id=device.device_id, at=now
                )
                if change is not None:
                    found += 1
                    publisher.publish(
                        DueStateChangedEvent(
                            device.tenant, device.serial, change, now, device.device_id
                        )
                    )
        changes += found
    return changes


def refresh_forecasts(
    repo: EngineRepository,
    forecasts: ForecastStore,
    publisher: EventPublisher,
    *,
    now: datetime,
    guard: float = 0.8,
    lead_days: float = 30.0,
    batch: int = 200,
    policies: ServicePolicyStore | None = None,
    curve: Sequence[OperatingPoint] | None = None,
) -> int:
    """Forecast every device with usage or records (prior: its model's fleet, shrunk toward the
    pipette's own earlier wear cycles, ``device_prior``); store it, and
    publish ``MaintenanceAlertRaised`` when an alert is raised (not again while it stays
    raised), in one unit of work per device. Returns the number of alerts raised.

    With ``policies``, a tenant's stored service policy sets its forecaster (guard, lead,
    alert probability, rationing) from its operating point on ``curve`` (default: the
    committed curve); ``guard`` and ``lead_days`` serve tenants without one."""
    chosen = policies.service_policies() if policies is not None else {}
    points = list(curve) if curve is not None else (committed_curve() if chosen else [])
    default = ForecasterSettings(guard=guard, lead_days=lead_days)
    tenant_settings = {t: settings_for(p, points)[0] for t, p in chosen.items()}
    devices = {(d.tenant, d.serial): d for d in repo.devices()}
    keys = list(devices)
    inputs: dict[tuple[str, str], DeviceInputs] = {}
    with repo.transaction():  # one read snapshot, one commit
        for start in range(0, len(keys), batch):
            inputs.update(repo.device_inputs_many(keys[start : start + batch]))
    inputs = {key: i for key, i in inputs.items() if i.records or i.usage}
    observed = {
        key: observations_since_service(i.records, i.since_service) for key, i in inputs.items()
    }
    by_model: dict[str, list[list[WearObservation]]] = {}
    for key, i in inputs.items():
        by_model.setdefault(i.model, []).append(observed[key])
    priors = model_priors(by_model)
    # per-device prior: the model's, shrunk toward the pipette's own earlier wear cycles
    history = {
        key: observations_by_service(i.records, i.since_service) for key, i in inputs.items()
    }
    cycles_by_model: dict[str, list[list[list[WearObservation]]]] = {}
    for key, i in inputs.items():
        cycles_by_model.setdefault(i.model, []).append(history[key])
    between = {m: model_between(priors[m], c) for m, c in cycles_by_model.items()}
    raised = 0
    for (tenant, serial), i in inputs.items():
        s = tenant_settings.get(tenant, default)
        prior = device_prior(priors[i.model], between[i.model], history[(tenant, serial)][:-1])
        forecast = forecast_device(
            prior,
            observed[(tenant, serial)],
            i.usage,
            i.since_service,
            now=now,
            guard=s.guard,
            lead_days=s.lead_days,
            alert_probability=s.alert_probability,
            min_life_days=s.min_life_days,
        )
        device_id = devices[(tenant, serial)].device_id
        with forecasts.transaction():
            was = forecasts.forecast_alert(tenant, serial)
            forecasts.save_forecast(tenant, serial, forecast, now, device_id=device_id)
            alert = forecast.alert and not was
            if alert:
                publisher.publish(MaintenanceAlertRaised(tenant, serial, forecast, now, device_id))
        if alert:
            raised += 1
    return raised
