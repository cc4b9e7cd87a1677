"""Single sign-on pages: start at the tenant's OpenID Connect provider, come back with a session."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import RedirectResponse

from labcal_cloud.portal.api_accounts import set_session_cookie
from labcal_cloud.portal.auth import ServicesDep
from labcal_cloud.portal.pages import safe_next

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/sso/start", response_class=RedirectResponse)
def sso_start(organisation: str, next: str = "/") -> RedirectResponse:
    return RedirectResponse(f"/sso/{organisation.strip()}/login?next={safe_next(next)}", 303)


@router.get("/sso/{tenant_id}/login", response_class=RedirectResponse)
def sso_login(tenant_id: str, s: ServicesDep, next: str = "/") -> RedirectResponse:
    return RedirectResponse(s.oidc.start(tenant_id, safe_next(next)), status_code=303)


@router.get("/sso/callback", response_class=RedirectResponse)
def sso_callback(code: str, state: str, s: ServicesDep) -> RedirectResponse:
    token, _, next_url = s.oidc.finish(code, state)
    response = RedirectResponse(safe_next(next_url), status_code=303)
    set_session_cookie(response, token, s.settings.cookie_secure)
    return response
