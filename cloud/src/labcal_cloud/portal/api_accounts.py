"""REST API for accounts: login session, me, sites, users, API tokens, tenants, GDPR."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from labcal_cloud.accounts.errors import ForbiddenError
from labcal_cloud.accounts.model import Role, Site, User
from labcal_cloud.portal.auth import SESSION_COOKIE, CurrentPrincipal, LabAdmin, ServicesDep

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["accounts"])


class LoginIn(BaseModel):
    email: str = Field(max_length=254)
    password: str = Field(max_length=1024)


class SessionOut(BaseModel):
    user_id: str
    tenant_id: str
    role: Role
    csrf_token: str


class UserOut(BaseModel):
    id: str
    tenant_id: str
    email: str
    name: str
    role: Role
    marketing_consent: bool

    @classmethod
    def of(cls, u: User) -> UserOut:
        return cls(
            id=u.id,
            tenant_id=u.tenant_id,
            email=u.email,
            name=u.name,
            role=u.role,
            marketing_consent=u.marketing_consent,
        )


class UserIn(BaseModel):
    email: str = Field(max_length=254)
    name: str = Field(max_length=200)
    role: Role
    password: str = Field(min_length=10, max_length=1024)


class SiteIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    address: str = Field(default="", max_length=500)


class SiteOut(BaseModel):
    id: str
    name: str
    address: str

    @classmethod
    def of(cls, s: Site) -> SiteOut:
        return cls(id=s.id, name=s.name, address=s.address)


class TokenIn(BaseModel):
    name: str = Field(default="integration", max_length=100)


class TokenOut(BaseModel):
    id: str
    token: str


class TenantIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    admin_email: str = Field(max_length=254)
    admin_name: str = Field(max_length=200)
    admin_password: str = Field(min_length=10, max_length=1024)


class TenantOut(BaseModel):
    id: str
    name: str
    admin: UserOut


class ConsentIn(BaseModel):
    marketing: bool


def client_key(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def set_session_cookie(response: Response, token: str, secure: bool) -> None:
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="lax", secure=secure, max_age=12 * 3600
    )


@router.post("/session")
def login(body: LoginIn, request: Request, response: Response, s: ServicesDep) -> SessionOut:
    token, p = s.accounts.login(body.email, body.password, client_key(request))
    set_session_cookie(response, token, s.settings.cookie_secure)
    return SessionOut(
        user_id=p.user.id, tenant_id=p.tenant_id, role=p.role, csrf_token=p.csrf_token
    )


@router.delete("/session", status_code=204)
def logout(p: CurrentPrincipal, request: Request, response: Response, s: ServicesDep) -> None:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        s.accounts.logout(token)
    response.delete_cookie(SESSION_COOKIE)


@router.get("/me")
def me(p: CurrentPrincipal) -> UserOut:
    return UserOut.of(p.user)


@router.get("/sites")
def list_sites(p: CurrentPrincipal, s: ServicesDep) -> list[SiteOut]:
    return [SiteOut.of(x) for x in s.accounts.sites(p.tenant_id)]


@router.post("/sites", status_code=201)
def create_site(body: SiteIn, p: LabAdmin, s: ServicesDep) -> SiteOut:
    return SiteOut.of(s.accounts.create_site(p.tenant_id, body.name, body.address))


@router.get("/users")
def list_users(p: LabAdmin, s: ServicesDep) -> list[UserOut]:
    return [UserOut.of(u) for u in s.accounts.users(p.tenant_id)]


@router.post("/users", status_code=201)
def create_user(body: UserIn, p: LabAdmin, s: ServicesDep) -> UserOut:
    customer_roles = (Role.LAB_ADMIN, Role.LAB_USER)
    if not p.is_provider and body.role not in customer_roles:
        raise ForbiddenError("a lab admin may create lab admins and lab users only")
    user = s.accounts.create_user(p.tenant_id, body.email, body.name, body.role, body.password)
    return UserOut.of(user)


@router.post("/tokens", status_code=201)
def create_token(body: TokenIn, p: CurrentPrincipal, s: ServicesDep) -> TokenOut:
    token_id, token = s.accounts.create_api_token(p.user, body.name)
    return TokenOut(id=token_id, token=token)


@router.delete("/tokens/{token_id}", status_code=204)
def revoke_token(token_id: str, p: CurrentPrincipal, s: ServicesDep) -> None:
    s.accounts.revoke_api_token(p.user, token_id)


@router.post("/tenants", status_code=201)
def create_tenant(body: TenantIn, p: CurrentPrincipal, s: ServicesDep) -> TenantOut:
    if p.role is not Role.PROVIDER_ADMIN:
        raise ForbiddenError("only a provider admin creates customer tenants")
    tenant = s.accounts.create_tenant(body.name)
    admin = s.accounts.create_user(
        tenant.id, body.admin_email, body.admin_name, Role.LAB_ADMIN, body.admin_password
    )
    return TenantOut(id=tenant.id, name=tenant.name, admin=UserOut.of(admin))


class SsoIn(BaseModel):
    issuer: str = Field(min_length=8, max_length=500)
    client_id: str = Field(min_length=1, max_length=200)
    client_secret: str = Field(default="", max_length=500)


@router.put("/sso", status_code=204)
def configure_sso(body: SsoIn, p: LabAdmin, s: ServicesDep) -> None:
    """Single sign-on for the caller's organisation: users then log in at /sso/{tenant_id}/login."""
    s.oidc.configure(p.tenant_id, body.issuer, body.client_id, body.client_secret)


@router.put("/me/consent")
def set_consent(body: ConsentIn, p: CurrentPrincipal, s: ServicesDep) -> UserOut:
    s.accounts.set_marketing_consent(p.user, body.marketing)
    return UserOut.of(s.accounts.user(p.tenant_id, p.user.id))


@router.get("/me/export")
def export_my_data(p: CurrentPrincipal, s: ServicesDep) -> dict[str, Any]:
    """GDPR data export: everything stored about the calling user."""
    user = s.accounts.user(p.tenant_id, p.user.id)
    tokens = s.accounts.api_tokens_of(user)
    prefs = s.notification_prefs.stored(user.id)
    return {
        "user": UserOut.of(user).model_dump(mode="json"),
        "tenant": s.accounts.tenant(p.tenant_id).name,
        "api_tokens": tokens,
        "reminder_preferences": asdict(prefs) if prefs else None,
    }


@router.delete("/me", status_code=204)
def delete_me(p: CurrentPrincipal, response: Response, s: ServicesDep) -> None:
    """GDPR erasure: the user is anonymised; certificates stay, naming no person."""
    s.certificates.pseudonymise_operator(p.user.name, p.user.id)
    s.notification_prefs.delete(p.user.id)  # phone number and push token
    s.accounts.delete_user(p.user)
    response.delete_cookie(SESSION_COOKIE)
