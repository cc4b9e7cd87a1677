"""The audit export as a page: a form with the period (and, for provider staff, the customer),
answered with the ZIP of signed certificates that ``GET /api/v1/audit-export`` gives."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from labcal_cloud.accounts.errors import InvalidInputError, NotFoundError
from labcal_cloud.accounts.model import Principal
from labcal_cloud.portal.auth import CurrentPrincipal, ServicesDep
from labcal_cloud.portal.services import Services
from labcal_cloud.portal.templating import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _form(
    request: Request,
    p: Principal,
    s: Services,
    start: str,
    end: str,
    tenant_id: str = "",
    error: str | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "audit.html",
        status,
        principal=p,
        start=start,
        end=end,
        tenant_id=tenant_id,
        customers=s.accounts.customer_tenants() if p.is_provider else [],
        error=error,
    )


def _day(text: str, what: str) -> date:
    if not text:
        raise InvalidInputError(f"choose the {what}")
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInputError(f"the {what} {text!r} is not a date (YYYY-MM-DD)") from exc


@router.get("/audit", response_class=HTMLResponse)
def audit_form(request: Request, p: CurrentPrincipal, s: ServicesDep) -> Response:
    today = s.runtime.now().date()
    start = (today - timedelta(days=365)).isoformat()
    return _form(request, p, s, start, today.isoformat())


@router.get("/audit/export", response_class=Response)
def audit_export(
    request: Request,
    p: CurrentPrincipal,
    s: ServicesDep,
    start: str = "",
    end: str = "",
    tenant_id: str = "",
) -> Response:
    tenant = p.tenant_id
    try:
        if p.is_provider:
            if tenant_id not in {t.id for t in s.accounts.customer_tenants()}:
                raise InvalidInputError("choose the customer organisation")
            tenant = tenant_id
        first, last = _day(start, "first day"), _day(end, "last day")
        data = s.certificates.audit_export(tenant, first, last)
    except (InvalidInputError, NotFoundError) as exc:
        text = str(exc)
        message = f"No export: {text[:1].lower()}{text[1:]}."
        return _form(request, p, s, start, end, tenant_id, message, exc.status_code)
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="labcal-audit-{first}-{last}.zip"'},
    )
