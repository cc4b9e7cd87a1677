"""Account entities and the roles that decide what a principal may do."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["PROVIDER_ROLES", "Principal", "Role", "Site", "Tenant", "User"]


class Role(StrEnum):
    LAB_ADMIN = "lab_admin"
    LAB_USER = "lab_user"
    SERVICE_PLANNER = "service_planner"
    TECHNICIAN = "technician"
    PROVIDER_ADMIN = "provider_admin"


PROVIDER_ROLES = frozenset({Role.SERVICE_PLANNER, Role.TECHNICIAN, Role.PROVIDER_ADMIN})


@dataclass(frozen=True)
class Tenant:
    id: str
    name: str
    kind: str  # "customer" or "provider"


@dataclass(frozen=True)
class Site:
    id: str
    tenant_id: str
    name: str
    address: str = ""


@dataclass(frozen=True)
class User:
    id: str
    tenant_id: str
    email: str
    name: str
    role: Role
    marketing_consent: bool = False


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user through a session (``csrf_token`` set) or an API token."""

    user: User
    via: str  # "session" or "token"
    csrf_token: str = ""

    @property
    def tenant_id(self) -> str:
        return self.user.tenant_id

    @property
    def role(self) -> Role:
        return self.user.role

    @property
    def is_provider(self) -> bool:
        return self.user.role in PROVIDER_ROLES

    def may(self, *roles: Role) -> bool:
        return self.user.role in roles
