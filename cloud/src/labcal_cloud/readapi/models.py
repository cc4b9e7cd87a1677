"""Response models of the read API."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, field_validator

__all__ = ["DailyUsageOut", "ReadingOut", "RunOut", "UsageOut", "UsageReportOut"]


class ReadingOut(BaseModel):
    message_id: UUID
    idx: int
    station: str
    device_serial: str
    time: datetime
    value: float | None
    unit: str
    stable: bool
    status: str
    run_id: UUID | None


class RunOut(BaseModel):
    message_id: UUID
    station: str
    run_id: UUID
    mode: str
    phase: str | None
    pipette_make: str
    pipette_model: str
    pipette_serial: str
    balance_serial: str
    nominal_volume_ul: float
    started_at: datetime
    ended_at: datetime
    payload: dict[str, Any]


class UsageReportOut(BaseModel):
    message_id: UUID
    station: str
    device_make: str
    device_model: str
    device_serial: str
    time: datetime
    cycles_total: int
    cycles_since_service: int
    trigger: str
    volume_setting_ul: float | None


class DailyUsageOut(BaseModel):
    day: date
    cycles_min: int
    cycles_max: int
    reports: int

    @field_validator("day", mode="before")
    @classmethod
    def _day(cls, value: Any) -> Any:
        return value.date() if isinstance(value, datetime) else value


class UsageOut(BaseModel):
    device_serial: str
    reports: list[UsageReportOut]
    daily: list[DailyUsageOut]


def run_out(row: dict[str, Any]) -> RunOut:
    payload = row.pop("payload_json")
    return RunOut(**row, payload=json.loads(payload) if isinstance(payload, str) else payload)
