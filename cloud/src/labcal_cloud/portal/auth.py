"""Request authentication: session cookie (with CSRF on unsafe methods) or API bearer token."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request

from labcal_cloud.accounts.errors import AuthError, ForbiddenError, PortalError
from labcal_cloud.accounts.model import PROVIDER_ROLES, Principal, Role
from labcal_cloud.portal.services import Services

__all__ = [
    "SESSION_COOKIE",
    "CurrentPrincipal",
    "LabAdmin",
    "MaybePrincipal",
    "ProviderStaff",
    "ServicesDep",
    "get_services",
    "signed_in",
]

SESSION_COOKIE = "labcal_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class LoginRequiredError(AuthError):
    """Raised for HTML pages: the error handler redirects to the login page."""


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_principal(request: Request, services: ServicesDep) -> Principal:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return services.accounts.api_token(header[7:].strip())
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise LoginRequiredError("login required")
    principal = services.accounts.session(token)
    if request.method not in SAFE_METHODS:
        sent = request.headers.get("x-csrf-token", "")
        if not sent and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")
        ):
            form = await request.form()
            value = form.get("csrf_token")
            sent = value if isinstance(value, str) else ""
        if not hmac.compare_digest(sent.encode(), principal.csrf_token.encode()):
            raise ForbiddenError("missing or wrong CSRF token")
    request.state.principal = principal  # for the error page's menu
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def signed_in(request: Request) -> Principal | None:
    """The session's user, or None: for public pages that show the menu to a signed-in user."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        principal: Principal = get_services(request).accounts.session(token)
    except PortalError:
        return None
    return principal


MaybePrincipal = Annotated[Principal | None, Depends(signed_in)]


def require_lab_admin(principal: CurrentPrincipal) -> Principal:
    if principal.role not in (Role.LAB_ADMIN, Role.PROVIDER_ADMIN):
        raise ForbiddenError("this needs the lab admin role")
    return principal


def require_provider(principal: CurrentPrincipal) -> Principal:
    if principal.role not in PROVIDER_ROLES:
        raise ForbiddenError("this needs a provider role")
    return principal


LabAdmin = Annotated[Principal, Depends(require_lab_admin)]
ProviderStaff = Annotated[Principal, Depends(require_provider)]
