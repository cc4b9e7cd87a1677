"""Server-rendered device page (history, charts), certificate download and public verification."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from labcal_cloud.accounts.errors import NotFoundError
from labcal_cloud.certificates.store import Calibration
from labcal_cloud.portal.api_certificates import dcc_response, verification, verify_dcc
from labcal_cloud.portal.auth import CurrentPrincipal, MaybePrincipal, ServicesDep
from labcal_cloud.portal.pages import LABELS
from labcal_cloud.portal.templating import render
from labcal_cloud.reports.svg_charts import bar_chart, line_chart

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _error_charts(history: list[Calibration]) -> list[tuple[str, str]]:
    points = [
        (c.performed_at.date().isoformat(), max(c.volumes, key=lambda v: v.volume_ul))
        for c in history
        if c.volumes
    ]
    if not points:
        return []
    labels = [d for d, _ in points]
    es = line_chart(
        "Systematic error against MPE",
        labels,
        [("systematic error", [v.systematic_error_pct for _, v in points], "#0b5cad")],
        band=[v.mpe_systematic_pct for _, v in points],
        unit="%",
    )
    cv = line_chart(
        "CV against MPE",
        labels,
        [("CV", [v.cv_pct for _, v in points], "#b26a00")],
        band=[v.mpe_cv_pct for _, v in points],
        unit="%",
    )
    return [("Systematic error (nominal volume)", es), ("Coefficient of variation", cv)]


@router.get("/devices/{device_id}", response_class=HTMLResponse)
def device_page(device_id: str, request: Request, p: CurrentPrincipal, s: ServicesDep) -> Response:
    device = s.registry.device(p.tenant_id, device_id)
    due = s.registry.due_view(p.tenant_id, device, s.runtime.now().date())
    history = s.certificates.history(p.tenant_id, device.id)
    charts = _error_charts(history)
    usage = s.registry.usage_weeks(p.tenant_id, device.id)[-26:]
    if usage:
        charts.append(
            (
                "Usage per week",
                bar_chart(
                    "Usage per week",
                    [w.strftime("%d %b") for w, _ in usage],
                    [c for _, c in usage],
                    "cycles",
                ),
            )
        )
    return render(
        request,
        "device.html",
        principal=p,
        device=device,
        due=due,
        label=LABELS[due.state],
        history=list(reversed(history)),
        charts=charts,
        booked=s.bookings.active_by_device(p.tenant_id).get(device.id),
    )


@router.get("/certificates/{calibration_id}.pdf", response_class=Response)
def certificate_pdf(calibration_id: str, p: CurrentPrincipal, s: ServicesDep) -> Response:
    c, pdf = s.certificates.pdf(p.tenant_id, calibration_id)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{c.number}.pdf"'},
    )


@router.get("/verify", response_class=HTMLResponse)
def verify_lookup(request: Request, p: MaybePrincipal, code: str = "") -> Response:
    """The public start of a verification: enter the code printed on the certificate."""
    code = code.strip()
    if code:
        return RedirectResponse(f"/verify/{quote(code, safe='')}", status_code=303)
    return render(request, "verify_lookup.html", principal=p)


@router.get("/certificates/{calibration_id}.dcc.xml", response_class=Response)
def certificate_dcc(calibration_id: str, p: CurrentPrincipal, s: ServicesDep) -> Response:
    c, xml = s.certificates.dcc(p.tenant_id, calibration_id)
    return dcc_response(c, xml)


@router.get("/verify/{code}/dcc.xml", response_class=Response)
def verify_dcc_download(code: str, s: ServicesDep) -> Response:
    """The DCC of the certificate with this verification code (the code is printed on it)."""
    c, xml, _ = s.certificates.dcc_by_code(code)
    return dcc_response(c, xml)


@router.get("/verify/{code}", response_class=HTMLResponse)
def verify_page(code: str, request: Request, s: ServicesDep, p: MaybePrincipal) -> Response:
    c, sha = s.certificates.by_code(code)
    return render(
        request,
        "verify.html",
        principal=p,
        c=c,
        sha=sha,
        code=code,
        result=None,
        dcc=_dcc_sha(s, code),
    )


def _dcc_sha(s: ServicesDep, code: str) -> str | None:
    try:
        return s.certificates.dcc_by_code(code)[2]
    except NotFoundError:  # issued before DCCs were written
        return None


@router.post("/verify/{code}", response_class=HTMLResponse)
async def verify_upload(
    code: str, request: Request, s: ServicesDep, p: MaybePrincipal, file: UploadFile
) -> Response:
    c, sha = s.certificates.by_code(code)
    data = await file.read(20_000_001)
    if data.lstrip()[:1] == b"<":  # a DCC (XML), not a PDF
        result = await run_in_threadpool(verify_dcc, s, data, code)
    else:
        result = await run_in_threadpool(verification, s, data, code)  # pyHanko: own loop
    return render(
        request,
        "verify.html",
        principal=p,
        c=c,
        sha=sha,
        code=code,
        result=result,
        dcc=_dcc_sha(s, code),
    )
