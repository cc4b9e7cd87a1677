"""Webhooks for CRM/ERP integration (pure): event bodies and their HMAC signature.

The engine's domain events (``engine.events``) become webhooks through :func:`webhook_for`.
Events: ``calibration.completed``, ``device.due_state_changed``, ``maintenance.forecast``.
Body: canonical JSON ``{"id", "type", "occurred_at", "tenant", "data"}``. Signature header
``X-LabCal-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`` — the
timestamp is signed too, so a receiver can refuse replays older than its tolerance
(:func:`verify_webhook`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from enum import StrEnum
from typing import Any

from labcal_cloud.engine.due import DueStateChanged
from labcal_cloud.engine.events import (
    CalibrationRecorded,
    DomainEvent,
    DueStateChangedEvent,
    MaintenanceAlertRaised,
    event_id,
)
from labcal_cloud.engine.forecast import MaintenanceForecast
from labcal_cloud.engine.records import CalibrationRecord
from labcal_cloud.errors import CloudError
from labcal_shared.iso8655.verdict import verdict_label

__all__ = [
    "WebhookEvent",
    "WebhookSignatureError",
    "calibration_completed",
    "due_state_changed",
    "maintenance_forecast",
    "sign_webhook",
    "verify_webhook",
    "webhook_body",
    "webhook_for",
]


class WebhookEvent(StrEnum):
    CALIBRATION_COMPLETED = "calibration.completed"
    DUE_STATE_CHANGED = "device.due_state_changed"
    MAINTENANCE_FORECAST = "maintenance.forecast"


class WebhookSignatureError(CloudError):
    """A webhook signature that is malformed, wrong or too old."""


def webhook_body(
    event: WebhookEvent, event_id: str, occurred_at: datetime, tenant: str, data: dict[str, Any]
) -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "type": event.value,
            "occurred_at": occurred_at.isoformat(),
            "tenant": tenant,
            "data": data,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()


def sign_webhook(body: bytes, secret: bytes, timestamp: int) -> str:
    mac = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_webhook(
    body: bytes, header: str, secret: bytes, now_unix: int, tolerance_s: int = 300
) -> None:
    """For receivers (and tests): raise unless ``header`` signs ``body`` recently enough."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (ValueError, KeyError) as exc:
        raise WebhookSignatureError(f"malformed signature header {header!r}") from exc
    expected = sign_webhook(body, secret, timestamp).split("v1=")[1]
    if not hmac.compare_digest(given, expected):
        raise WebhookSignatureError("webhook signature does not match")
    if abs(now_unix - timestamp) > tolerance_s:
        raise WebhookSignatureError(f"webhook timestamp {timestamp} is outside {tolerance_s} s")


def due_state_changed(device_id: str, change: DueStateChanged) -> dict[str, Any]:
    return {
        "device_id": device_id,
        "previous": None if change.previous is None else change.previous.value,
        "current": change.current.value,
        "basis": change.basis.value,
        "due_at": change.due_at.isoformat(),
        "reason": change.reason,
    }


def calibration_completed(record: CalibrationRecord) -> dict[str, Any]:
    return {
        "record_id": str(record.record_id),
        "run_id": str(record.run_id),
        "kind": record.kind,
        "phase": record.phase,
        "pipette": record.pipette.model_dump(mode="json"),
        "verdict": record.verdict.value,
        "verdict_label": verdict_label(record.verdict),
        "verdict_reasons": list(record.verdict_reasons),
        "decision_rule": record.decision_rule.value,
        "passed": record.conforming,  # true only when the verdict is conforming
        "conformity_claimable": record.conformity_claimable,
        "mpe_edition": record.mpe_edition,
        "tolerance_table": record.tolerance_table,
        "ended_at": record.ended_at.isoformat(),
        "supersedes": None if record.supersedes is None else str(record.supersedes),
        "volumes": [
            {
                "volume_ul": v.volume_ul,
                "channel": v.channel,
                "systematic_error_ul": v.systematic_error_ul,
                "random_error_ul": v.random_error_ul,
                "passed": v.passed,  # accepted under the decision rule
                "guard_band_ul": v.guard_band_ul,
                "expanded_uncertainty_ul": v.expanded_uncertainty_ul,
            }
            for v in record.volumes
        ],
    }


def maintenance_forecast(device_id: str, forecast: MaintenanceForecast) -> dict[str, Any]:
    def at(value: datetime | None) -> str | None:
        return None if value is None else value.isoformat()

    return {
        "device_id": device_id,
        "guard": forecast.guard,
        "alert": forecast.alert,
        "early_at": at(forecast.early_at),
        "median_at": at(forecast.median_at),
        "late_at": at(forecast.late_at),
        "reason": forecast.reason,
    }


def webhook_for(event: DomainEvent) -> tuple[WebhookEvent, str, bytes]:
    """A domain event as its webhook: the type, the event id (stable: ``engine.events.event_id``,
    so publishing the same event again is recognised) and the signed-to-be body."""
    data: dict[str, Any]
    match event:
        case CalibrationRecorded():
            kind, data = WebhookEvent.CALIBRATION_COMPLETED, calibration_completed(event.record)
        case DueStateChangedEvent():
            kind, data = (
                WebhookEvent.DUE_STATE_CHANGED,
                due_state_changed(event.serial, event.change),
            )
        case MaintenanceAlertRaised():
            kind, data = (
                WebhookEvent.MAINTENANCE_FORECAST,
                maintenance_forecast(event.serial, event.forecast),
            )
    key = event_id(event)
    return kind, key, webhook_body(kind, key, event.at, event.tenant, data)
