"""Server-rendered pages: login, device overview, manual add, CSV import and QR claim."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from labcal_cloud.accounts.errors import AuthError, ConflictError, InvalidInputError, NotFoundError
from labcal_cloud.accounts.model import Principal
from labcal_cloud.portal.api_accounts import client_key, set_session_cookie
from labcal_cloud.portal.auth import SESSION_COOKIE, CurrentPrincipal, ServicesDep
from labcal_cloud.portal.templating import render
from labcal_cloud.registry.model import COLOURS, DueState
from labcal_cloud.registry.store import OrderItem

__all__ = ["landing_page", "router", "safe_next"]

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 100
LABELS = {
    DueState.BLOCKED: "Blocked",
    DueState.OVERDUE: "Overdue",
    DueState.DUE: "Due",
    DueState.DUE_SOON: "Due soon",
    DueState.OK: "OK",
    DueState.UNKNOWN: "Unknown",
}
STATES = [(s, COLOURS[s], LABELS[s]) for s in LABELS]


def safe_next(target: str) -> str:
    return target if target.startswith("/") and not target.startswith("//") else "/"


@router.get("/", response_class=RedirectResponse)
def home(p: CurrentPrincipal) -> RedirectResponse:
    """The landing page of the role: planning for provider staff, the devices for a lab."""
    return RedirectResponse(landing_page(p), status_code=303)


def landing_page(p: Principal) -> str:
    return "/provider/planning" if p.is_provider else "/devices"


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/") -> Response:
    return render(request, "login.html", next=safe_next(next), email="", error=None)


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    s: ServicesDep,
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form()] = "/",
) -> Response:
    try:
        token, _ = s.accounts.login(email, password, client_key(request))
    except AuthError as exc:
        return render(
            request,
            "login.html",
            exc.status_code,
            next=safe_next(next),
            email=email,
            error=str(exc),
        )
    response = RedirectResponse(safe_next(next), status_code=303)
    set_session_cookie(response, token, s.settings.cookie_secure)
    return response


@router.post("/logout", response_class=RedirectResponse)
def logout(request: Request, p: CurrentPrincipal, s: ServicesDep) -> RedirectResponse:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        s.accounts.logout(token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/devices", response_class=HTMLResponse)
def overview(
    request: Request,
    p: CurrentPrincipal,
    s: ServicesDep,
    site_id: str = "",
    state: str = "",
    page: int = 1,
) -> Response:
    wanted = DueState(state) if state in set(DueState) else None
    lines, counts = s.registry.overview_page(
        p.tenant_id,
        s.runtime.now().date(),
        site_id or None,
        wanted,
        PAGE_SIZE,
        (max(page, 1) - 1) * PAGE_SIZE,
    )
    shown = counts.get(wanted, 0) if wanted else sum(counts.values())
    pages = max(1, -(-shown // PAGE_SIZE))
    if page > pages:  # past the end (the list shrank): show the last page
        page = pages
        lines, counts = s.registry.overview_page(
            p.tenant_id, s.runtime.now().date(), site_id or None, wanted, PAGE_SIZE,
            (page - 1) * PAGE_SIZE,
        )  # fmt: skip
    page = max(page, 1)
    return render(
        request,
        "overview.html",
        principal=p,
        sites=s.accounts.sites(p.tenant_id),
        lines=lines,
        booked=s.bookings.active_by_device(p.tenant_id),
        counts=counts,
        total=sum(counts.values()),
        ask_nps=not p.is_provider and bool(counts) and not s.reports.has_answered_nps(p.user),
        states=STATES,
        labels=LABELS,
        site_id=site_id,
        state=state,
        page=page,
        pages=pages,
    )


@router.get("/devices/new", response_class=HTMLResponse)
def add_form(request: Request, p: CurrentPrincipal, s: ServicesDep) -> Response:
    return render(
        request, "add_device.html", principal=p, sites=s.accounts.sites(p.tenant_id), error=None
    )


@router.post("/devices/new", response_class=HTMLResponse)
def add_device(
    request: Request,
    p: CurrentPrincipal,
    s: ServicesDep,
    serial: Annotated[str, Form(max_length=128)],
    make: Annotated[str, Form(max_length=128)],
    model: Annotated[str, Form(max_length=128)],
    site_id: Annotated[str, Form(max_length=64)],
    nominal_volume_ul: Annotated[float, Form(ge=0, le=100_000)] = 0.0,
) -> Response:
    try:
        device = s.registry.add(
            p.tenant_id, site_id, OrderItem(make, model, serial, nominal_volume_ul)
        )
    except (ConflictError, InvalidInputError, NotFoundError) as exc:
        return render(
            request,
            "add_device.html",
            exc.status_code,
            principal=p,
            sites=s.accounts.sites(p.tenant_id),
            error=str(exc),
        )
    return RedirectResponse(f"/devices/{device.id}", status_code=303)


@router.get("/devices/import", response_class=HTMLResponse)
def import_form(request: Request, p: CurrentPrincipal, s: ServicesDep) -> Response:
    return render(
        request,
        "import.html",
        principal=p,
        sites=s.accounts.sites(p.tenant_id),
        result=None,
        error=None,
    )


@router.post("/devices/import", response_class=HTMLResponse)
async def import_devices(
    request: Request,
    p: CurrentPrincipal,
    s: ServicesDep,
    file: UploadFile,
    site_id: Annotated[str, Form(max_length=64)],
) -> Response:
    raw = await file.read(2_000_001)
    sites = s.accounts.sites(p.tenant_id)
    error = None
    if len(raw) > 2_000_000:
        error = "The CSV file is larger than 2 MB; split it into smaller files."
    else:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = ""
        if not text or "\x00" in text:
            error = (
                f"{file.filename or 'The file'} is not a CSV text file (UTF-8). Save the sheet"
                " as “CSV UTF-8” and choose that file."
            )
    if error is not None:
        return render(
            request, "import.html", 422, principal=p, sites=sites, result=None, error=error
        )
    result = s.registry.import_csv(p.tenant_id, text, site_id)
    return render(request, "import.html", principal=p, sites=sites, result=result, error=None)


@router.get("/claim/{code}", response_class=HTMLResponse)
def claim_page(code: str, request: Request, p: CurrentPrincipal, s: ServicesDep) -> Response:
    device = s.registry.by_claim_code(code)
    return render(
        request,
        "claim.html",
        principal=p,
        device=device,
        code=code,
        sites=s.accounts.sites(p.tenant_id),
    )


@router.post("/claim/{code}", response_class=RedirectResponse)
def claim(
    code: str, p: CurrentPrincipal, s: ServicesDep, site_id: Annotated[str, Form(max_length=64)]
) -> RedirectResponse:
    device = s.registry.claim(p.tenant_id, code, site_id)
    return RedirectResponse(f"/devices/{device.id}", status_code=303)
