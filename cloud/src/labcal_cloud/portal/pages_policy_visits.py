"""The planner's page of the service policy: per site and week, the visits each tenant's chosen
policy plans (``engine.visit_plan``) and why, with the choice and the forecaster setting it maps
to (``engine.service_policy``). Provider staff only."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from labcal_cloud.engine.service_policy import committed_curve, settings_for
from labcal_cloud.engine.store_policy_sql import SqlServicePolicyStore, visit_inputs
from labcal_cloud.engine.visit_plan import plan_visits
from labcal_cloud.portal.auth import ProviderStaff, ServicesDep
from labcal_cloud.portal.templating import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/provider/service-policy", response_class=HTMLResponse)
def policy_visits_page(
    request: Request, p: ProviderStaff, s: ServicesDep, weeks: int = 12
) -> Response:
    weeks = max(1, min(weeks, 52))
    chosen = SqlServicePolicyStore(s.db).service_policies()
    curve = committed_curve() if chosen else []
    settings, choices = {}, []
    names = {str(r[0]): str(r[1]) for r in s.db.query("SELECT id, name FROM portal_tenants")}
    for tenant, policy in sorted(chosen.items()):
        settings[tenant], why = settings_for(policy, curve)
        choices.append((names.get(tenant, tenant), why, settings[tenant]))
    plan = plan_visits(visit_inputs(s.db), settings, s.runtime.now().date(), weeks)
    return render(request, "policy_visits.html", principal=p, plan=plan, choices=choices)
