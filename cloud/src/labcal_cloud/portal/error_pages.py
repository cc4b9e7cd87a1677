"""One error page for every HTML route; JSON for the machine routes.

``install_error_pages(app)`` registers the exception handlers of the portal process:

- ``PortalError`` (the domain services' errors), ``HTTPException`` (unknown path, wrong method)
  and ``RequestValidationError`` (a missing or malformed field) become ``error.html``: what
  happened, what to do next, in words, and a way back — for pages;
- the same errors stay JSON (``{"detail": …}``, FastAPI's shapes) for the API ``/api/…``, the
  read API ``/v1/…``, the probes ``/healthz`` ``/readyz`` ``/metrics``, ``/openapi.json`` and any
  request that asks for JSON and not for HTML (``Accept``);
- a page that needs a login redirects to ``/login?next=…``.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from labcal_cloud.accounts.errors import PortalError, RateLimitedError
from labcal_cloud.portal.auth import LoginRequiredError, signed_in
from labcal_cloud.portal.templating import render

__all__ = [
    "MACHINE_PREFIXES",
    "Advice",
    "advice_for",
    "error_page",
    "install_error_pages",
    "wants_json",
]

MACHINE_PREFIXES = ("/api/", "/v1/", "/healthz", "/readyz", "/metrics", "/openapi.json")

FIELD_WORDS = {
    "device_ids": "the devices to book (tick at least one)",
    "day": "the day",
    "site_id": "the site",
    "token": "the booking link's token",
    "start": "the first day",
    "end": "the last day",
    "file": "the file",
    "code": "the verification code",
    "email": "the e-mail address",
    "password": "the password",
}


@dataclass(frozen=True, slots=True)
class Advice:
    title: str
    next_step: str


ADVICE = {
    400: Advice("This request cannot be handled", "Go back and try again."),
    401: Advice("Please log in", "Log in again; your session may have ended."),
    403: Advice(
        "You may not open this page",
        "Your role does not allow this. Ask your organisation's LabCal admin if you need it.",
    ),
    404: Advice(
        "This page does not exist",
        "The link may be old or mistyped, or the item belongs to another organisation. "
        "Use the menu to find what you were looking for.",
    ),
    405: Advice("This page cannot be opened this way", "Open it from the menu instead."),
    409: Advice(
        "This conflicts with what is already stored",
        "Someone (perhaps you) already did this. Reload the page to see the current state.",
    ),
    422: Advice("Something in the form is missing or wrong", "Go back, correct it and send again."),
    429: Advice("Too many attempts", "Wait a moment, then try again."),
}


def advice_for(status: int) -> Advice:
    return ADVICE.get(status) or Advice("Something went wrong", "Go back and try again.")


def wants_json(request: Request) -> bool:
    """Machine routes by path; elsewhere JSON only for a client that asks for JSON, not HTML."""
    if request.url.path.startswith(MACHINE_PREFIXES):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def error_page(
    request: Request,
    status: int,
    message: str,
    headers: dict[str, str] | None = None,
    *,
    next_step: str | None = None,
    back: tuple[str, str] | None = None,
    title: str | None = None,
) -> Response:
    """The error page: ``message`` (what happened), the next step (the status's advice unless
    given) and a way back (``back``: URL and label; else the start page); ``title`` replaces
    the status's heading."""
    advice = advice_for(status)
    principal = getattr(request.state, "principal", None) or signed_in(request)
    return render(
        request,
        "error.html",
        status,
        headers,
        principal=principal,
        status=status,
        title=title or advice.title,
        message=message,
        next_step=next_step or advice.next_step,
        home="/" if principal else "/login",
        back=back[0] if back else None,
        back_label=back[1] if back else None,
    )


def _missing_fields(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors():
        loc = [str(x) for x in error.get("loc", ()) if x not in ("body", "query", "path")]
        name = loc[0] if loc else "a field"
        words = FIELD_WORDS.get(name, name.replace("_", " "))
        problem = "is missing" if error.get("type") == "missing" else "is not valid"
        text = f"{words[0].upper()}{words[1:]} {problem}."
        if text not in parts:
            parts.append(text)
    return " ".join(parts) or "The request is not valid."


def install_error_pages(app: FastAPI) -> None:
    @app.exception_handler(PortalError)
    async def portal_error(request: Request, exc: PortalError) -> Response:
        if isinstance(exc, LoginRequiredError) and not wants_json(request):
            query = "?" + request.url.query if request.url.query else ""
            target = quote(str(request.url.path) + query)
            return RedirectResponse(f"/login?next={target}", status_code=303)
        headers = (
            {"Retry-After": str(exc.retry_after_s)} if isinstance(exc, RateLimitedError) else {}
        )
        if wants_json(request):
            return JSONResponse({"detail": str(exc)}, exc.status_code, headers=headers)
        return error_page(request, exc.status_code, str(exc), headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if wants_json(request):
            return await http_exception_handler(request, exc)
        message = {404: "There is no page at this address.", 405: "Wrong method."}.get(
            exc.status_code, str(exc.detail)
        )
        return error_page(request, exc.status_code, message, dict(exc.headers or {}))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        if wants_json(request):
            return await request_validation_exception_handler(request, exc)
        return error_page(request, 422, _missing_fields(exc))
