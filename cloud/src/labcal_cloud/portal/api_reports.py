"""REST API for KPIs, service planning, compliance reports and the NPS survey."""

from __future__ import annotations

import csv
import io
from datetime import date

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from labcal_cloud.portal.auth import CurrentPrincipal, ProviderStaff, ServicesDep
from labcal_cloud.registry.model import DueState

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["reports"])


class KpisOut(BaseModel):
    registration_rate: float | None
    activation_rate: float | None
    devices_with_active_reminders: int
    reminder_conversion: float | None
    on_time_rate: float | None
    nps: float | None
    nps_answers: int
    due_states: dict[DueState, int]


class PlanCell(BaseModel):
    site: str
    week: date
    due: int
    forecast_due: int


class PlanningOut(BaseModel):
    weeks: list[date]
    cells: list[PlanCell]
    bundles: list[tuple[str, int]]
    workload: list[tuple[str, date, int]]


class ComplianceOut(BaseModel):
    site: str
    device: str
    serial: str
    state: DueState
    reason: str
    last_calibration: date | None
    certificate: str
    result: str
    next_due: date | None


class NpsIn(BaseModel):
    score: int = Field(ge=0, le=10)


@router.get("/kpis")
def kpis(p: ProviderStaff, s: ServicesDep) -> KpisOut:
    k, states = s.reports.kpis()
    return KpisOut(**k.__dict__, due_states=states)


@router.get("/planning")
def planning(p: ProviderStaff, s: ServicesDep, weeks: int = 12) -> PlanningOut:
    hm = s.reports.heat_map(min(max(weeks, 1), 52))
    cells = [
        PlanCell(
            site=site,
            week=w,
            due=hm.due.get((site, w), 0),
            forecast_due=hm.forecast_only.get((site, w), 0),
        )
        for site in hm.sites
        for w in hm.weeks
        if hm.cell(site, w)
    ]
    return PlanningOut(
        weeks=hm.weeks, cells=cells, bundles=hm.bundles, workload=s.reports.workload()
    )


@router.get("/reports/compliance")
def compliance(
    p: CurrentPrincipal, s: ServicesDep, site_id: str | None = None
) -> list[ComplianceOut]:
    if site_id:
        s.accounts.site(p.tenant_id, site_id)
    return [ComplianceOut(**r.__dict__) for r in s.reports.compliance(p.tenant_id, site_id)]


@router.get("/reports/compliance.csv", response_class=Response)
def compliance_csv(p: CurrentPrincipal, s: ServicesDep, site_id: str | None = None) -> Response:
    rows = compliance(p, s, site_id)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(list(ComplianceOut.model_fields))
    for r in rows:
        writer.writerow(["" if v is None else str(v) for v in r.model_dump(mode="json").values()])
    return Response(
        out.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="labcal-compliance.csv"'},
    )


@router.post("/nps", status_code=204)
def answer_nps(body: NpsIn, p: CurrentPrincipal, s: ServicesDep) -> None:
    s.reports.answer_nps(p.user, body.score)
