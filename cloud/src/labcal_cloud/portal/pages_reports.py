"""Server-rendered KPI dashboard, service planning heat map, compliance report, NPS survey."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from labcal_cloud.portal.auth import CurrentPrincipal, ProviderStaff, ServicesDep
from labcal_cloud.portal.pages import LABELS
from labcal_cloud.portal.templating import render
from labcal_cloud.registry.model import COLOURS, DueState
from labcal_cloud.reports.svg_charts import bar_chart

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
STATE_FILLS = {  # readable on white, in the order of urgency
    DueState.BLOCKED: "#7a1b14",
    DueState.OVERDUE: "#b3261e",
    DueState.DUE: "#a35f00",
    DueState.DUE_SOON: "#d08c00",
    DueState.OK: "#1b7f3b",
    DueState.UNKNOWN: "#5f6368",
}


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


@router.get("/provider/kpis", response_class=HTMLResponse)
def kpi_page(request: Request, p: ProviderStaff, s: ServicesDep) -> Response:
    k, states = s.reports.kpis()
    tiles = [
        ("Registration rate", _pct(k.registration_rate), "sold devices claimed by a customer"),
        (
            "Activation rate",
            _pct(k.activation_rate),
            "registered devices with usage or calibration",
        ),
        ("Active reminders", str(k.devices_with_active_reminders), "due devices not yet booked"),
        ("Reminder conversion", _pct(k.reminder_conversion), "due devices that are booked"),
        ("On-time calibration", _pct(k.on_time_rate), "recalibrations done by the due date"),
        (
            "NPS",
            "—" if k.nps is None else f"{k.nps:+.0f}",
            f"{k.nps_answers} answers after onboarding",
        ),
    ]
    order = [
        DueState.BLOCKED,
        DueState.OVERDUE,
        DueState.DUE,
        DueState.DUE_SOON,
        DueState.OK,
        DueState.UNKNOWN,
    ]
    chart = bar_chart(
        "Devices by due state",
        [LABELS[x] for x in order],
        [states.get(x, 0) for x in order],
        "devices",
        [STATE_FILLS[x] for x in order],
    )
    plan = s.reports.heat_map(12)
    weekly = bar_chart(
        "Devices due per week (all sites)",
        [w.strftime("%d %b") for w in plan.weeks],
        [sum(plan.cell(site, w) for site in plan.sites) for w in plan.weeks],
        "devices",
    )
    return render(
        request,
        "kpis.html",
        principal=p,
        tiles=tiles,
        charts=[("Devices by due state", chart), ("Due and forecast-due per week", weekly)],
    )


@router.get("/provider/planning", response_class=HTMLResponse)
def planning_page(request: Request, p: ProviderStaff, s: ServicesDep) -> Response:
    return render(
        request,
        "planning.html",
        principal=p,
        plan=s.reports.heat_map(12),
        workload=s.reports.workload(),
    )


@router.get("/reports/compliance", response_class=HTMLResponse)
def compliance_page(
    request: Request, p: CurrentPrincipal, s: ServicesDep, site_id: str = ""
) -> Response:
    if site_id:
        s.accounts.site(p.tenant_id, site_id)
    rows = s.reports.compliance(p.tenant_id, site_id or None)
    return render(
        request,
        "compliance.html",
        principal=p,
        rows=rows,
        labels=LABELS,
        colours=COLOURS,
        sites=s.accounts.sites(p.tenant_id),
        site_id=site_id,
        tenant=s.accounts.tenant(p.tenant_id),
        today=s.runtime.now().date(),
    )


@router.post("/nps", response_class=RedirectResponse)
def nps(
    p: CurrentPrincipal, s: ServicesDep, score: Annotated[int, Form(ge=0, le=10)]
) -> RedirectResponse:
    s.reports.answer_nps(p.user, score)
    return RedirectResponse("/devices?thanks=1", status_code=303)
