"""Builders shared by the portal tests: an app on a real database and a small world of tenants."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from labcal_cloud.accounts.model import Role, Site, Tenant, User
from labcal_cloud.portal.app import build_services, create_app
from labcal_cloud.portal.runtime import Runtime
from labcal_cloud.portal.services import Services
from labcal_cloud.portal.settings import PortalSettings

PASSWORD = "correct horse battery"


@dataclass
class Clock:
    at: datetime = field(default_factory=lambda: datetime(2026, 3, 2, 9, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **kwargs: float) -> None:
        self.at += timedelta(**kwargs)


@dataclass
class Lab:
    tenant: Tenant
    site: Site
    admin: User
    user: User


@dataclass
class World:
    services: Services
    clock: Clock
    provider: Tenant
    provider_admin: User
    planner: User
    a: Lab
    b: Lab


def build_world(database_url: str, **settings: object) -> World:
    clock = Clock()
    runtime = Runtime(now=clock, new_id=lambda: uuid.uuid4().hex)
    config = PortalSettings(
        database_url=database_url,
        fast_password_hashing=True,
        base_url="http://portal.test",
        **settings,
    )  # type: ignore[arg-type]
    services = build_services(config, runtime)
    acc = services.accounts
    provider = acc.create_tenant("LabCal Service", "provider")
    tag = uuid.uuid4().hex[:8]
    padmin = acc.create_user(
        provider.id, f"padmin-{tag}@provider.test", "Pat Admin", Role.PROVIDER_ADMIN, PASSWORD
    )
    planner = acc.create_user(
        provider.id, f"planner-{tag}@provider.test", "Paul Planner", Role.SERVICE_PLANNER, PASSWORD
    )
    labs = []
    for name in ("a", "b"):
        tenant = acc.create_tenant(f"Lab {name.upper()}")
        site = acc.create_site(tenant.id, f"{name.upper()} Main building")
        admin = acc.create_user(
            tenant.id, f"admin-{name}-{tag}@lab.test", f"Admin {name}", Role.LAB_ADMIN, PASSWORD
        )
        user = acc.create_user(
            tenant.id, f"user-{name}-{tag}@lab.test", f"User {name}", Role.LAB_USER, PASSWORD
        )
        labs.append(Lab(tenant, site, admin, user))
    return World(services, clock, provider, padmin, planner, labs[0], labs[1])


def client_for(world: World) -> TestClient:
    return TestClient(create_app(world.services.settings, services=world.services))


def login(client: TestClient, user: User) -> str:
    """Log in through the API; return the session's CSRF token."""
    r = client.post("/api/v1/session", json={"email": user.email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    token: str = r.json()["csrf_token"]
    return token


def api_token(world: World, user: User) -> dict[str, str]:
    _, token = world.services.accounts.create_api_token(user, "test")
    return {"Authorization": f"Bearer {token}"}
