"""REST API for what certificates state about their issuer and customer (ISO/IEC 17025 §7.8).

``/certificate-settings/laboratory``: the issuing laboratory of the caller's tenant (the
provider's lab, set by a provider admin; or a customer's in-house lab, set by its lab admin).
``/certificate-settings/customer``: the caller's tenant as a customer (address, and whether
it asks for a next-due date on its certificates); provider staff pass ``tenant_id``.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from labcal_cloud.accounts.errors import ForbiddenError
from labcal_cloud.accounts.model import Role
from labcal_cloud.certificates.profiles import CustomerProfile, Laboratory
from labcal_cloud.portal.auth import CurrentPrincipal, LabAdmin, ServicesDep

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/certificate-settings", tags=["certificates"])


class LaboratoryIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    address: str = Field(default="", max_length=500)
    accreditation_id: str = Field(default="", max_length=100, examples=["DAkkS D-K-12345-01-00"])
    signatory_name: str = Field(default="", max_length=200)
    signatory_role: str = Field(default="", max_length=200, examples=["Head of laboratory"])
    country_code: str = Field(default="", max_length=2, examples=["DE"])


class LaboratoryOut(LaboratoryIn):
    stored: bool


class CustomerIn(BaseModel):
    address: str = Field(default="", max_length=500)
    next_due_on_certificate: bool = Field(
        default=False,
        description="the customer asked for a next-due date on its certificates (§7.8.4.3)",
    )


class CustomerOut(CustomerIn):
    tenant_id: str


def _target(p: CurrentPrincipal, tenant_id: str | None) -> str:
    if tenant_id is None or tenant_id == p.tenant_id:
        return p.tenant_id
    if not p.is_provider:
        raise ForbiddenError("only provider staff may change another tenant's settings")
    return tenant_id


@router.get("/laboratory")
def get_laboratory(p: CurrentPrincipal, s: ServicesDep) -> LaboratoryOut:
    lab = s.certificates.profiles.laboratory(p.tenant_id)
    if lab is None:
        return LaboratoryOut(name=s.settings.provider_name, stored=False)
    return LaboratoryOut(stored=True, **vars(lab))


@router.put("/laboratory")
def put_laboratory(body: LaboratoryIn, p: LabAdmin, s: ServicesDep) -> LaboratoryOut:
    lab = s.certificates.profiles.set_laboratory(p.tenant_id, Laboratory(**body.model_dump()))
    return LaboratoryOut(stored=True, **vars(lab))


@router.get("/customer")
def get_customer(p: CurrentPrincipal, s: ServicesDep, tenant_id: str | None = None) -> CustomerOut:
    target = _target(p, tenant_id)
    s.accounts.tenant(target)  # 404 for an unknown tenant
    c = s.certificates.profiles.customer(target)
    return CustomerOut(tenant_id=target, **vars(c))


@router.put("/customer")
def put_customer(
    body: CustomerIn, p: CurrentPrincipal, s: ServicesDep, tenant_id: str | None = None
) -> CustomerOut:
    target = _target(p, tenant_id)
    if not (p.is_provider or p.role is Role.LAB_ADMIN):
        raise ForbiddenError("this needs the lab admin role")
    s.accounts.tenant(target)  # 404 for an unknown tenant
    c = s.certificates.profiles.set_customer(target, CustomerProfile(**body.model_dump()))
    return CustomerOut(tenant_id=target, **vars(c))
