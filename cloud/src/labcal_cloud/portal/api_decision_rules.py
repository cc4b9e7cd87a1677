"""REST API for the decision rule (ILAC-G8) that judges a tenant's or one device's calibrations.

``PUT /api/v1/decision-rules`` sets it: a lab admin for their own lab (the lab's default, or one
of its devices), provider staff for any lab (``tenant_id`` or ``device_id`` says which). It
judges runs recorded from then on; stored records keep the rule they were judged by.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from labcal_cloud.accounts.errors import ForbiddenError, InvalidInputError
from labcal_cloud.accounts.model import PROVIDER_ROLES, Principal
from labcal_cloud.engine.decision_rules import RuleSetting, SqlDecisionRules
from labcal_cloud.portal.auth import CurrentPrincipal, LabAdmin, ServicesDep
from labcal_cloud.portal.services import Services
from labcal_shared.iso8655.verdict import DECISION_RULE_DESCRIPTIONS, DecisionRule

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["decision rules"])


class DecisionRuleIn(BaseModel):
    rule: DecisionRule
    device_id: str | None = Field(default=None, max_length=64, description="one device only")
    tenant_id: str | None = Field(
        default=None, max_length=64, description="the lab (provider staff only; default: yours)"
    )


class DecisionRuleOut(BaseModel):
    tenant_id: str
    device_serial: str = Field(description="'' for the lab's default")
    rule: DecisionRule
    description: str
    updated_at: datetime

    @classmethod
    def of(cls, s: RuleSetting) -> DecisionRuleOut:
        return cls(
            tenant_id=s.tenant,
            device_serial=s.device_serial,
            rule=s.rule,
            description=DECISION_RULE_DESCRIPTIONS[s.rule],
            updated_at=s.updated_at,
        )


def _tenant(p: Principal, s: Services, tenant_id: str | None, device_id: str | None) -> str:
    provider = p.role in PROVIDER_ROLES
    if device_id is not None:
        owner, _ = s.registry.tenant_of(device_id)
        if not provider and owner != p.tenant_id:
            raise ForbiddenError("this device belongs to another lab")
        if tenant_id is not None and tenant_id != owner:
            raise InvalidInputError("device_id belongs to another tenant than tenant_id")
        return owner
    if tenant_id is None:
        if provider:
            raise InvalidInputError("say which lab: tenant_id or device_id")
        return p.tenant_id
    if tenant_id == p.tenant_id:
        return tenant_id
    if not provider:
        raise ForbiddenError("a lab admin sets the decision rule of their own lab only")
    s.accounts.tenant(tenant_id)  # 404 for a lab that does not exist
    return tenant_id


@router.put("/decision-rules")
def set_decision_rule(body: DecisionRuleIn, p: LabAdmin, s: ServicesDep) -> DecisionRuleOut:
    tenant = _tenant(p, s, body.tenant_id, body.device_id)
    serial = "" if body.device_id is None else s.registry.device(tenant, body.device_id).serial
    setting = SqlDecisionRules(s.db).set(tenant, body.rule, s.runtime.now(), device_serial=serial)
    return DecisionRuleOut.of(setting)


@router.get("/decision-rules")
def decision_rules(
    p: CurrentPrincipal, s: ServicesDep, tenant_id: str | None = None
) -> list[DecisionRuleOut]:
    """The lab's default and per-device rules (none stored: simple acceptance applies)."""
    tenant = p.tenant_id
    if tenant_id is not None and tenant_id != p.tenant_id:
        if p.role not in PROVIDER_ROLES:
            raise ForbiddenError("another lab's decision rules are not yours to read")
        tenant = tenant_id
    return [DecisionRuleOut.of(r) for r in SqlDecisionRules(s.db).settings(tenant)]
