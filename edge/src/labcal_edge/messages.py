"""Pure construction of this station's envelopes and topics (identity, time and ids passed in)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from labcal_shared.contracts import (
    ClockQuality,
    DeviceRef,
    Envelope,
    Kind,
    Payload,
    StationState,
    StationStatus,
    build_topic,
)
from labcal_shared.contracts.payloads import DeviceStatus

__all__ = ["StationIdentity", "build_envelope", "receipt_topic", "status_payload", "topic_for"]


@dataclass(frozen=True, slots=True)
class StationIdentity:
    tenant: str
    station: str


def build_envelope(
    identity: StationIdentity,
    *,
    seq: int,
    message_id: UUID,
    edge_time: datetime,
    clock: ClockQuality,
    payload: Payload,
    device: DeviceRef | None = None,
    device_time: datetime | None = None,
) -> Envelope:
    return Envelope(
        message_id=message_id,
        tenant=identity.tenant,
        station=identity.station,
        seq=seq,
        device=device,
        device_time=device_time,
        edge_time=edge_time,
        clock=clock,
        payload=payload,
    )


def topic_for(identity: StationIdentity, envelope: Envelope) -> str:
    return build_topic(identity.tenant, identity.station, envelope.kind)


def receipt_topic(identity: StationIdentity) -> str:
    """Where the cloud's storage receipts for this station come: its own ``cmd`` topic."""
    return build_topic(identity.tenant, identity.station, Kind.CMD)


def status_payload(
    state: StationState,
    *,
    version: str,
    devices: list[DeviceStatus],
    outbox_depth: int,
    outbox_capacity: int,
) -> StationStatus:
    return StationStatus(
        state=state,
        agent_version=version,
        devices=devices,
        outbox_depth=outbox_depth,
        outbox_capacity=outbox_capacity,
    )
