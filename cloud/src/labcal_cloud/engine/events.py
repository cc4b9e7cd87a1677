"""The engine's domain events and the port it publishes them through.

The engine says what happened in its own words; it does not know webhooks, e-mail or the
scheduler. Adapters outside the engine turn an event into a webhook delivery (``notify`` owns the
bodies, the scheduler the outbox). An adapter must write the event in the same transaction as
the change that caused it (the repository and the publisher share one database gateway), so a
crash never keeps a record without its event or an event without its record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from labcal_cloud.engine.due import DueStateChanged
from labcal_cloud.engine.forecast import MaintenanceForecast
from labcal_cloud.engine.records import CalibrationRecord

__all__ = [
    "CalibrationRecorded",
    "DomainEvent",
    "DueStateChangedEvent",
    "EventPublisher",
    "MaintenanceAlertRaised",
    "event_id",
]


@dataclass(frozen=True, slots=True)
class CalibrationRecorded:
    """A stored run became a calibration record (or a quick-check record)."""

    tenant: str
    record: CalibrationRecord
    at: datetime


@dataclass(frozen=True, slots=True)
class DueStateChangedEvent:
    """A device's due state changed (its status, basis or due date)."""

    tenant: str
    serial: str
    change: DueStateChanged
    at: datetime
    device_id: str | None = None
    """The registry's device id (None: a pipette the registry does not know)."""


@dataclass(frozen=True, slots=True)
class MaintenanceAlertRaised:
    """The forecaster raised a maintenance alert for a device (not again while it stays)."""

    tenant: str
    serial: str
    forecast: MaintenanceForecast
    at: datetime
    device_id: str | None = None
    """The registry's device id (None: a pipette the registry does not know)."""


DomainEvent = CalibrationRecorded | DueStateChangedEvent | MaintenanceAlertRaised


def event_id(event: DomainEvent) -> str:
    """A stable id per event: publishing the same event again is recognised downstream."""
    match event:
        case CalibrationRecorded():
            return f"calibration-{event.record.record_id}"
        case DueStateChangedEvent():
            return f"due-{event.tenant}-{event.serial}-{event.at.isoformat()}"
        case MaintenanceAlertRaised():
            return f"forecast-{event.tenant}-{event.serial}-{event.at.isoformat()}"


class EventPublisher(Protocol):
    def publish(self, event: DomainEvent) -> None: ...
