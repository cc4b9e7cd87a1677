"""Routes of the read API. Every query is scoped to the caller's tenant (from its token), so one
tenant can never read another's data; there is no tenant parameter to forge."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from labcal_cloud.readapi.auth import CurrentTenant, StoreDep
from labcal_cloud.readapi.models import (
    DailyUsageOut,
    ReadingOut,
    RunOut,
    UsageOut,
    UsageReportOut,
    run_out,
)

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["readings"])

Limit = Annotated[int, Query(ge=1, le=10_000)]


@router.get("/readings", response_model=list[ReadingOut])
def list_readings(
    tenant: CurrentTenant,
    store: StoreDep,
    station: str | None = None,
    device: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Limit = 1000,
) -> list[ReadingOut]:
    """Stored balance readings in time order, optionally of one station or device."""
    rows = store.readings(
        tenant, station=station, device_serial=device, since=since, until=until, limit=limit
    )
    return [ReadingOut(**r) for r in rows]


@router.get("/runs", response_model=list[RunOut])
def list_runs(
    tenant: CurrentTenant, store: StoreDep, device: str | None = None, limit: Limit = 100
) -> list[RunOut]:
    """Gravimetric runs as measured at the stations, newest first."""
    return [run_out(r) for r in store.runs(tenant, device_serial=device, limit=limit)]


@router.get("/devices/{serial}/usage", response_model=UsageOut)
def device_usage(
    serial: str, tenant: CurrentTenant, store: StoreDep, limit: Limit = 1000
) -> UsageOut:
    """A pipette's usage reports and its daily cycle counts."""
    return UsageOut(
        device_serial=serial,
        reports=[UsageReportOut(**r) for r in store.usage(tenant, serial, limit=limit)],
        daily=[DailyUsageOut(**r) for r in store.usage_daily(tenant, serial)],
    )
