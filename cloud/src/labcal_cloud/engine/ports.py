"""Ports of the engine's service layer (adapters: ``store_pg.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from labcal_cloud.engine.due import DueState, DueStateChanged
from labcal_cloud.engine.forecast import MaintenanceForecast
from labcal_cloud.engine.records import CalibrationRecord
from labcal_cloud.engine.usage import UsageSample

__all__ = [
    "DeviceInputs",
    "EngineRepository",
    "EventPublisher",
    "ForecastStore",
    "PendingRun",
]


@dataclass(frozen=True, slots=True)
class PendingRun:
    message_id: UUID
    tenant: str
    payload: dict[str, Any]  # the GravimetricRun payload as stored by the ingest


@dataclass(frozen=True, slots=True)
class DeviceInputs:
    registered_at: datetime
    records: tuple[CalibrationRecord, ...]
    usage: tuple[UsageSample, ...]  # (time, cycles_total)
    drops: tuple[datetime, ...]
    model: str = ""
    since_service: tuple[UsageSample, ...] = ()  # (time, cycles_since_service)


class EngineRepository(Protocol):
    def unrecorded_runs(self, limit: int) -> list[PendingRun]: ...

    def balance_valid_until(self, tenant: str, serial: str) -> tuple[bool, datetime | None]:
        """(known, valid until): known=False when LabCal has no record of the balance."""
        ...

    def save_record(self, tenant: str, message_id: UUID, record: CalibrationRecord) -> None: ...

    def reject_run(self, tenant: str, message_id: UUID, reason: str, at: datetime) -> None: ...

    def pipettes(self) -> list[tuple[str, str]]:
        """(tenant, serial) of every pipette with usage reports or calibration records."""
        ...

    def device_inputs(self, tenant: str, serial: str) -> DeviceInputs: ...

    def due_state(self, tenant: str, serial: str) -> DueState | None: ...

    def save_due_state(
        self, tenant: str, serial: str, state: DueState, change: DueStateChanged | None
    ) -> None: ...


class ForecastStore(Protocol):
    def forecast_alert(self, tenant: str, serial: str) -> bool | None:
        """Whether the stored forecast of the device alerts (None: no forecast yet)."""
        ...

    def save_forecast(
        self, tenant: str, serial: str, forecast: MaintenanceForecast, at: datetime
    ) -> None: ...


class EventPublisher(Protocol):
    def publish(
        self, tenant: str, event_type: str, event_id: str, data: dict[str, Any], at: datetime
    ) -> None: ...
