"""REST API for the device registry: overview, manual add, claim, CSV import, orders and labels."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Body, Query, Response
from pydantic import BaseModel, Field

from labcal_cloud.accounts.errors import ForbiddenError
from labcal_cloud.accounts.model import Role
from labcal_cloud.portal.auth import CurrentPrincipal, ProviderStaff, ServicesDep
from labcal_cloud.registry.model import Device, DueState
from labcal_cloud.registry.qr_labels import Label, render_label_sheet
from labcal_cloud.registry.store import DeviceLine, OrderItem

__all__ = ["DeviceOut", "router"]

router = APIRouter(prefix="/api/v1", tags=["devices"])

WRITERS = (Role.LAB_ADMIN, Role.LAB_USER, Role.PROVIDER_ADMIN)


class DeviceIn(BaseModel):
    site_id: str = Field(max_length=64)
    serial: str = Field(min_length=1, max_length=128)
    make: str = Field(min_length=1, max_length=128)
    model: str = Field(min_length=1, max_length=128)
    nominal_volume_ul: float = Field(default=0.0, ge=0, le=100_000)


class DeviceOut(BaseModel):
    id: str
    site_id: str | None
    site_name: str = ""
    make: str
    model: str
    serial: str
    nominal_volume_ul: float
    last_calibrated_at: str | None
    usage_cycles: int
    due_state: DueState | None = None
    due_colour: str | None = None
    due_reason: str | None = None
    due_date: date | None = None

    @classmethod
    def of(cls, d: Device) -> DeviceOut:
        return cls(
            id=d.id,
            site_id=d.site_id,
            make=d.make,
            model=d.model,
            serial=d.serial,
            nominal_volume_ul=d.nominal_volume_ul,
            usage_cycles=d.usage_cycles,
            last_calibrated_at=d.last_calibrated_at.isoformat() if d.last_calibrated_at else None,
        )

    @classmethod
    def of_line(cls, line: DeviceLine) -> DeviceOut:
        out = cls.of(line.device)
        return out.model_copy(
            update={
                "site_name": line.site_name,
                "due_state": line.due.state,
                "due_colour": line.due.colour,
                "due_reason": line.due.reason,
                "due_date": line.due.due_date,
            }
        )


class ClaimIn(BaseModel):
    site_id: str = Field(max_length=64)


class OrderItemIn(BaseModel):
    make: str = Field(min_length=1, max_length=128)
    model: str = Field(min_length=1, max_length=128)
    serial: str = Field(min_length=1, max_length=128)
    nominal_volume_ul: float = Field(default=0.0, ge=0, le=100_000)


class OrderIn(BaseModel):
    order_ref: str = Field(min_length=1, max_length=64)
    devices: list[OrderItemIn] = Field(min_length=1, max_length=1000)


class ClaimCodeOut(BaseModel):
    device_id: str
    serial: str
    claim_code: str
    claim_url: str


class ImportErrorOut(BaseModel):
    line: int
    message: str


class ImportOut(BaseModel):
    added: int
    errors: list[ImportErrorOut]


class UsageIn(BaseModel):
    cycles: int = Field(ge=0, lt=2**31)


def _writer(p: CurrentPrincipal) -> None:
    if p.role not in WRITERS:
        raise ForbiddenError("this role may not change the registry")


@router.get("/devices")
def list_devices(
    p: CurrentPrincipal,
    s: ServicesDep,
    site_id: str | None = None,
    state: DueState | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[DeviceOut]:
    """Devices with their due state, most urgent first."""
    lines, _ = s.registry.overview_page(
        p.tenant_id, s.runtime.now().date(), site_id, state, limit, offset
    )
    return [DeviceOut.of_line(line) for line in lines]


@router.post("/devices", status_code=201)
def add_device(body: DeviceIn, p: CurrentPrincipal, s: ServicesDep) -> DeviceOut:
    _writer(p)
    item = OrderItem(body.make, body.model, body.serial, body.nominal_volume_ul)
    return DeviceOut.of(s.registry.add(p.tenant_id, body.site_id, item))


@router.get("/devices/{device_id}")
def get_device(device_id: str, p: CurrentPrincipal, s: ServicesDep) -> DeviceOut:
    return DeviceOut.of(s.registry.device(p.tenant_id, device_id))


@router.put("/devices/{device_id}/usage/{week_start}", status_code=204)
def put_usage(
    device_id: str, week_start: date, body: UsageIn, p: CurrentPrincipal, s: ServicesDep
) -> None:
    _writer(p)
    s.registry.update_usage(p.tenant_id, device_id, body.cycles, week_start)


@router.post("/devices/import")
def import_devices(
    p: CurrentPrincipal,
    s: ServicesDep,
    site_id: str,
    csv_text: str = Body(media_type="text/csv", max_length=2_000_000),
) -> ImportOut:
    _writer(p)
    result = s.registry.import_csv(p.tenant_id, csv_text, site_id)
    return ImportOut(
        added=result.added,
        errors=[ImportErrorOut(line=e.line, message=e.message) for e in result.errors],
    )


@router.post("/claims/{code}")
def claim_device(code: str, body: ClaimIn, p: CurrentPrincipal, s: ServicesDep) -> DeviceOut:
    _writer(p)
    return DeviceOut.of(s.registry.claim(p.tenant_id, code, body.site_id))


@router.post("/orders", status_code=201)
def create_order(body: OrderIn, p: ProviderStaff, s: ServicesDep) -> list[ClaimCodeOut]:
    items = [OrderItem(d.make, d.model, d.serial, d.nominal_volume_ul) for d in body.devices]
    devices = s.registry.create_order(body.order_ref, items)
    return [_claim_out(d, s.settings.base_url) for d in devices]


@router.get("/orders/{order_ref}/labels.pdf", response_class=Response)
def order_labels(order_ref: str, p: ProviderStaff, s: ServicesDep) -> Response:
    devices = s.registry.order_devices(order_ref)
    labels = [
        Label(_claim_out(d, s.settings.base_url).claim_url, f"{d.make} {d.model}", d.serial)
        for d in devices
        if d.claim_code
    ]
    pdf = render_label_sheet(labels, f"LabCal claim labels, order {order_ref}")
    return Response(pdf, media_type="application/pdf")


def _claim_out(d: Device, base_url: str) -> ClaimCodeOut:
    code = d.claim_code or ""
    return ClaimCodeOut(
        device_id=d.id, serial=d.serial, claim_code=code, claim_url=f"{base_url}/claim/{code}"
    )
