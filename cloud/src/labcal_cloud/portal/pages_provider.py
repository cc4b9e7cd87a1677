"""Provider pages: orders of sold devices with their QR claim labels (``/provider/orders``).

HTML forms over the registry service the API uses (``POST /api/v1/orders``,
``GET /api/v1/orders/{ref}/labels.pdf``): create an order from pasted lines, see its claim codes,
download its label sheet.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from labcal_cloud.accounts.errors import ConflictError, InvalidInputError
from labcal_cloud.portal.auth import ProviderStaff, ServicesDep
from labcal_cloud.portal.templating import render
from labcal_cloud.registry.qr_labels import Label, render_label_sheet
from labcal_cloud.registry.store import OrderItem

__all__ = ["parse_order_lines", "router"]

router = APIRouter(include_in_schema=False)
MAX_LINES = 1000


def parse_order_lines(text: str) -> list[OrderItem]:
    """``make, model, serial[, nominal volume µL]`` per line; blank lines are skipped."""
    items: list[OrderItem] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [x.strip() for x in line.split(",")]
        if len(parts) not in (3, 4) or not all(parts[:3]):
            raise InvalidInputError(
                f"line {number}: write make, model, serial and optionally the volume in µL,"
                " separated by commas"
            )
        try:
            volume = float(parts[3]) if len(parts) == 4 and parts[3] else 0.0
        except ValueError as exc:
            message = f"line {number}: the volume {parts[3]!r} is not a number"
            raise InvalidInputError(message) from exc
        items.append(OrderItem(parts[0], parts[1], parts[2], volume))
    if not items:
        raise InvalidInputError("list at least one device, one per line")
    if len(items) > MAX_LINES:
        raise InvalidInputError(f"at most {MAX_LINES} devices per order")
    return items


def _page(
    request: Request, p: ProviderStaff, s: ServicesDep, status: int = 200, **form: str
) -> Response:
    return render(
        request,
        "orders.html",
        status,
        principal=p,
        orders=s.registry.orders(),
        order_ref=form.get("order_ref", ""),
        lines=form.get("lines", ""),
        error=form.get("error"),
    )


@router.get("/provider/orders", response_class=HTMLResponse)
def orders_page(request: Request, p: ProviderStaff, s: ServicesDep) -> Response:
    return _page(request, p, s)


@router.post("/provider/orders", response_class=HTMLResponse)
def create_order(
    request: Request,
    p: ProviderStaff,
    s: ServicesDep,
    order_ref: Annotated[str, Form(max_length=64)] = "",
    lines: Annotated[str, Form(max_length=200_000)] = "",
) -> Response:
    ref = order_ref.strip()
    try:
        if not ref:
            raise InvalidInputError("give the order a reference, e.g. the sales order number")
        if s.registry.order_devices(ref):
            raise ConflictError(f"order {ref} exists already; choose another reference")
        s.registry.create_order(ref, parse_order_lines(lines))
    except (ConflictError, InvalidInputError) as exc:
        text = str(exc)
        error = f"Not created: {text[:1].lower()}{text[1:]}."
        return _page(request, p, s, exc.status_code, order_ref=ref, lines=lines, error=error)
    return RedirectResponse(f"/provider/orders/{ref}", status_code=303)


@router.get("/provider/orders/{order_ref}", response_class=HTMLResponse)
def order_page(order_ref: str, request: Request, p: ProviderStaff, s: ServicesDep) -> Response:
    devices = s.registry.order_devices(order_ref)
    if not devices:
        return render(
            request, "order.html", 404, principal=p, order_ref=order_ref, devices=[], base=""
        )
    return render(
        request,
        "order.html",
        principal=p,
        order_ref=order_ref,
        devices=devices,
        base=s.settings.base_url,
    )


@router.get("/provider/orders/{order_ref}/labels.pdf", response_class=Response)
def order_labels(order_ref: str, p: ProviderStaff, s: ServicesDep) -> Response:
    labels = [
        Label(f"{s.settings.base_url}/claim/{d.claim_code}", f"{d.make} {d.model}", d.serial)
        for d in s.registry.order_devices(order_ref)
        if d.claim_code and not d.tenant_id
    ]
    if not labels:
        raise InvalidInputError(f"order {order_ref} has no unclaimed device left to label")
    pdf = render_label_sheet(labels, f"LabCal claim labels, order {order_ref}")
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="labels-{order_ref}.pdf"'},
    )
