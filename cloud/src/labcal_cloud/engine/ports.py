"""Ports of the engine's service layer (adapter: ``store_sql.py``, SQLite and PostgreSQL).

A repository and the publisher it works with share one unit of work: :meth:`transaction` opens
it, and a publisher writing through the same database joins it, so a record and its event (a
due state and its change event, a forecast and its alert) commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from labcal_cloud.engine.due import DueState, DueStateChanged
from labcal_cloud.engine.events import EventPublisher
from labcal_cloud.engine.forecast import MaintenanceForecast
from labcal_cloud.engine.records import CalibrationRecord
from labcal_cloud.engine.service_policy import ServicePolicy
from labcal_cloud.engine.usage import UsageSample
from labcal_shared.iso8655.tolerance import ToleranceTable
from labcal_shared.iso8655.verdict import DecisionRule

__all__ = [
    "DeviceInputs",
    "EngineDevice",
    "EngineRepository",
    "EventPublisher",
    "ForecastStore",
    "PendingRun",
    "ServicePolicyStore",
]


@dataclass(frozen=True, slots=True)
class PendingRun:
    message_id: UUID
    tenant: str
    payload: dict[str, Any]  # the GravimetricRun payload as stored by the ingest


@dataclass(frozen=True, slots=True)
class EngineDevice:
    """A device the engine keeps a due state for: every device of the registry with a tenant,
    and every pipette with usage reports or records (``device_id`` None: not registered).

    The registry's fields are the device's own policy and history: ``interval_days`` and
    ``cycle_limit`` (None: the defaults apply), ``registered_at``, and ``last_calibrated_at`` /
    ``usage_cycles`` (imported history, used when the engine has no record / no usage)."""

    tenant: str
    serial: str
    device_id: str | None = None
    registered_at: datetime | None = None
    interval_days: float | None = None
    cycle_limit: int | None = None
    last_calibrated_at: datetime | None = None
    usage_cycles: int = 0


@dataclass(frozen=True, slots=True)
class DeviceInputs:
    """What the ingest and the engine stored about one device (``registered_at``: the first
    usage report or record; None when there is neither)."""

    registered_at: datetime | None
    records: tuple[CalibrationRecord, ...]
    usage: tuple[UsageSample, ...]  # (time, cycles_total)
    drops: tuple[datetime, ...]
    model: str = ""
    since_service: tuple[UsageSample, ...] = ()  # (time, cycles_since_service)


class EngineRepository(Protocol):
    def transaction(self) -> AbstractContextManager[object]:
        """One unit of work (nested blocks, and a publisher on the same database, join it)."""
        ...

    def unrecorded_runs(self, limit: int) -> list[PendingRun]: ...

    def balance_valid_until(self, tenant: str, serial: str) -> tuple[bool, datetime | None]:
        """(known, valid until): known=False when LabCal has no record of the balance."""
        ...

    def decision_rule(self, tenant: str, serial: str) -> DecisionRule:
        """The rule that judges this pipette's runs (its own, else its tenant's, else simple)."""
        ...

    def tolerance_table(self, tenant: str, serial: str, edition: str) -> ToleranceTable | None:
        """The loaded table that judges this pipette's runs (None: the run's shipped edition)."""
        ...

    def save_record(self, tenant: str, message_id: UUID, record: CalibrationRecord) -> None: ...

    def reject_run(self, tenant: str, message_id: UUID, reason: str, at: datetime) -> None: ...

    def devices(self) -> list[EngineDevice]:
        """Every registered device with a tenant, then every other pipette with usage reports
        or calibration records; one per (tenant, serial)."""
        ...

    def device_inputs_many(
        self, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], DeviceInputs]:
        """The inputs of each (tenant, serial) (empty inputs for a device without any)."""
        ...

    def due_states_many(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], DueState]:
        """The stored due states of those of these devices that have one."""
        ...

    def save_due_state(
        self,
        tenant: str,
        serial: str,
        state: DueState,
        change: DueStateChanged | None,
        *,
        device_id: str | None = None,
        at: datetime | None = None,
    ) -> None:
        """Store the state (``at``: when it was computed) and its change, in one transaction."""
        ...


class ForecastStore(Protocol):
    def transaction(self) -> AbstractContextManager[object]: ...

    def forecast_alert(self, tenant: str, serial: str) -> bool | None:
        """Whether the stored forecast of the device alerts (None: no forecast yet)."""
        ...

    def save_forecast(
        self,
        tenant: str,
        serial: str,
        forecast: MaintenanceForecast,
        at: datetime,
        *,
        device_id: str | None = None,
    ) -> None: ...


class ServicePolicyStore(Protocol):
    """The tenants' service policies (the planner's choice on the policy curve)."""

    def service_policy(self, tenant: str) -> ServicePolicy | None: ...

    def service_policies(self) -> dict[str, ServicePolicy]:
        """Every stored choice, by tenant."""
        ...

    def save_service_policy(self, policy: ServicePolicy) -> None:
        """Store (replace) the tenant's choice."""
        ...

    def clear_service_policy(self, tenant: str) -> bool:
        """Remove the tenant's choice (the defaults apply again); False if there was none."""
        ...
