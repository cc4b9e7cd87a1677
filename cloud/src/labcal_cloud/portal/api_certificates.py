"""REST API for calibration records and their signed certificates, verification and audit export."""

from __future__ import annotations

import hashlib
from datetime import date, datetime

from fastapi import APIRouter, Body, Response
from pydantic import AwareDatetime, BaseModel, Field

from labcal_cloud.certificates.signing import Verification
from labcal_cloud.certificates.store import Calibration
from labcal_cloud.portal.auth import CurrentPrincipal, ProviderStaff, ServicesDep
from labcal_shared.contracts import GravimetricRun
from labcal_shared.iso8655.verdict import Verdict

__all__ = ["CalibrationOut", "router"]

router = APIRouter(prefix="/api/v1", tags=["certificates"])


class CalibrationIn(BaseModel):
    device_id: str = Field(max_length=64)
    run: GravimetricRun
    balance_traceability: str = Field(min_length=1, max_length=500)
    balance_valid_until: AwareDatetime | None = None
    interval_days: int = Field(default=365, ge=1, le=3650)


class CalibrationOut(BaseModel):
    id: str
    device_id: str
    number: str
    performed_at: datetime
    next_due: date
    verdict: Verdict = Field(description="the calibration's one verdict")
    verdict_label: str = Field(description="the verdict as the certificate and portal word it")
    passed: bool = Field(description="true only when the verdict is conforming")
    operator: str
    certificate_url: str
    dcc_url: str  # the machine-readable certificate (PTB DCC, XML, XML-DSig signed)
    verify_url: str

    @classmethod
    def of(cls, c: Calibration, base_url: str) -> CalibrationOut:
        return cls(
            id=c.id,
            device_id=c.device_id,
            number=c.number,
            performed_at=c.performed_at,
            next_due=c.next_due,
            verdict=c.verdict,
            verdict_label=c.verdict_label,
            passed=c.passed,
            operator=c.operator,
            certificate_url=f"/api/v1/calibrations/{c.id}/certificate.pdf",
            dcc_url=f"/api/v1/calibrations/{c.id}/certificate.xml",
            verify_url=f"{base_url}/verify/{c.verify_code}",
        )


class PublicCertificateOut(BaseModel):
    number: str
    device: str
    serial: str
    performed_at: datetime
    verdict: Verdict
    verdict_label: str
    passed: bool
    next_due: date
    sha256: str


class VerificationOut(BaseModel):
    valid: bool
    reason: str
    signer: str
    matches_record: bool | None


@router.post("/calibrations", status_code=201)
def record_calibration(body: CalibrationIn, p: ProviderStaff, s: ServicesDep) -> CalibrationOut:
    c = s.certificates.record(
        body.device_id,
        body.run,
        balance_traceability=body.balance_traceability,
        balance_valid_until=body.balance_valid_until,
        interval_days=body.interval_days,
    )
    return CalibrationOut.of(c, s.settings.base_url)


@router.get("/devices/{device_id}/calibrations")
def device_calibrations(
    device_id: str, p: CurrentPrincipal, s: ServicesDep
) -> list[CalibrationOut]:
    device = s.registry.device(p.tenant_id, device_id)
    return [
        CalibrationOut.of(c, s.settings.base_url)
        for c in s.certificates.history(p.tenant_id, device.id)
    ]


@router.get("/calibrations/{calibration_id}")
def get_calibration(calibration_id: str, p: CurrentPrincipal, s: ServicesDep) -> CalibrationOut:
    return CalibrationOut.of(s.certificates.get(p.tenant_id, calibration_id), s.settings.base_url)


@router.get("/calibrations/{calibration_id}/certificate.pdf", response_class=Response)
def certificate_pdf(calibration_id: str, p: CurrentPrincipal, s: ServicesDep) -> Response:
    c, pdf = s.certificates.pdf(p.tenant_id, calibration_id)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{c.number}.pdf"'},
    )


@router.get("/calibrations/{calibration_id}/certificate.xml", response_class=Response)
def certificate_dcc(calibration_id: str, p: CurrentPrincipal, s: ServicesDep) -> Response:
    """The certificate as a PTB Digital Calibration Certificate (DCC 3.3.0), signed (XML-DSig)."""
    c, xml = s.certificates.dcc(p.tenant_id, calibration_id)
    return dcc_response(c, xml)


def dcc_response(c: Calibration, xml: bytes) -> Response:
    return Response(
        xml,
        media_type="application/xml",
        headers={"Content-Disposition": f'attachment; filename="{c.number}.dcc.xml"'},
    )


@router.get("/verify/{code}", tags=["public"])
def public_certificate(code: str, s: ServicesDep) -> PublicCertificateOut:
    c, sha = s.certificates.by_code(code)
    return PublicCertificateOut(
        number=c.number,
        device=c.device,
        serial=c.serial,
        performed_at=c.performed_at,
        verdict=c.verdict,
        verdict_label=c.verdict_label,
        passed=c.passed,
        next_due=c.next_due,
        sha256=sha,
    )


@router.post("/verify", tags=["public"])
def verify_pdf(
    s: ServicesDep,
    pdf: bytes = Body(media_type="application/pdf", max_length=20_000_000),
    code: str | None = None,
) -> VerificationOut:
    """Check a certificate file's signature; with ``code``, also that it is that record's file."""
    return verification(s, pdf, code)


@router.post("/verify/dcc", tags=["public"])
def verify_dcc(
    s: ServicesDep,
    xml: bytes = Body(media_type="application/xml", max_length=20_000_000),
    code: str | None = None,
) -> VerificationOut:
    """Check a DCC file's XML signature; with ``code``, also that it is that record's file."""
    result = s.certificates.dcc_signer.verify(xml)
    sha = s.certificates.dcc_by_code(code)[2] if code else None
    return _verification_out(result, xml, sha, "DCC")


@router.get("/audit-export", response_class=Response)
def audit_export(start: date, end: date, p: CurrentPrincipal, s: ServicesDep) -> Response:
    data = s.certificates.audit_export(p.tenant_id, start, end)
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="labcal-audit-{start}-{end}.zip"'},
    )


def verification(s: ServicesDep, pdf: bytes, code: str | None) -> VerificationOut:
    result = s.certificates.signer.verify(pdf)
    sha = s.certificates.by_code(code)[1] if code else None
    return _verification_out(result, pdf, sha, "certificate")


def _verification_out(
    result: Verification, data: bytes, issued_sha: str | None, what: str
) -> VerificationOut:
    """A signature check's answer; with the issued file's SHA-256, also whether ``data`` is it."""
    matches = None if issued_sha is None else hashlib.sha256(data).hexdigest() == issued_sha
    reason = result.reason
    if result.valid and matches is False:
        reason = f"validly signed, but not the {what} of this verification code"
    return VerificationOut(
        valid=result.valid and matches is not False,
        reason=reason,
        signer=result.signer,
        matches_record=matches,
    )
