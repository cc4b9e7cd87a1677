"""The envelope every LabCal message travels in.

An envelope carries identity (tenant, station, device), order (a per-station sequence number),
time (device and edge timestamps and how far the clock can be trusted) and a typed payload.
``(station, seq)`` and ``message_id`` are each unique, which makes storage idempotent.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AwareDatetime, Field, model_validator

from labcal_shared.contracts.payloads import ContractModel, DeviceRef, Payload
from labcal_shared.contracts.topics import Kind

__all__ = ["KIND_OF_PAYLOAD", "SCHEMA_VERSION", "ClockQuality", "Envelope"]

SCHEMA_VERSION = 1

Identifier = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]

KIND_OF_PAYLOAD: dict[str, Kind] = {
    "usage_report": Kind.USAGE,
    "reading": Kind.READING,
    "reading_batch": Kind.READING,
    "gravimetric_run": Kind.RUN,
    "device_event": Kind.EVENT,
    "station_status": Kind.STATUS,
}


class ClockQuality(StrEnum):
    """How far the edge's timestamps can be trusted; order always comes from ``seq``."""

    SYNCED = "synced"  # NTP (or similar) reports the clock synchronised
    UNSYNCED = "unsynced"  # clock plausible, but synchronisation not confirmed
    INVALID = "invalid"  # clock implausible (e.g. a year before 2024): timestamps are not facts


class Envelope(ContractModel):
    """One LabCal message."""

    schema_version: Literal[1] = 1
    message_id: UUID
    tenant: Identifier
    station: Identifier
    seq: Annotated[int, Field(ge=0, lt=2**63)]
    device: DeviceRef | None = None
    device_time: AwareDatetime | None = None
    edge_time: AwareDatetime
    clock: ClockQuality
    payload: Payload

    @property
    def kind(self) -> Kind:
        """The topic kind this message is published under."""
        return KIND_OF_PAYLOAD[self.payload.type]

    @model_validator(mode="after")
    def _device_present(self) -> Envelope:
        needs_device = self.payload.type not in ("station_status", "gravimetric_run")
        if needs_device and self.device is None:
            raise ValueError(f"device is required for a {self.payload.type} message")
        return self
