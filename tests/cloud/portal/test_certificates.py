"""Certificates: recorded from a run, rendered with the full protocol, PAdES-signed, verified."""

from __future__ import annotations

import csv
import io
import re
import zipfile
import zlib
from pathlib import Path

import pytest
from fpdf import FPDF

from labcal_cloud.certificates.profiles import CustomerProfile
from labcal_cloud.certificates.signing import CertificateSigner

from .engine_due import compute_due_states
from .helpers import (
    World,
    api_token,
    client_for,
    make_signing_pair,
    record_calibration,
    sample_run,
)


def _device(world: World, serial: str = "C-1") -> str:
    r = client_for(world).post(
        "/api/v1/devices",
        json={
            "site_id": world.a.site.id,
            "serial": serial,
            "make": "Acme",
            "model": "P100",
            "nominal_volume_ul": 100,
        },
        headers=api_token(world, world.a.admin),
    )
    assert r.status_code == 201, r.text
    device_id: str = r.json()["id"]
    return device_id


def _pdf(world: World, calibration_id: str) -> bytes:
    r = client_for(world).get(
        f"/api/v1/calibrations/{calibration_id}/certificate.pdf",
        headers=api_token(world, world.a.user),
    )
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/pdf"
    return r.content


def test_recorded_calibration_has_signed_pdf_that_verifies(world: World) -> None:
    device_id = _device(world)
    c = record_calibration(world, device_id, "C-1")
    assert c["passed"] is True
    assert c["next_due"] == "2027-03-01"
    pdf = _pdf(world, c["id"])
    assert pdf.startswith(b"%PDF")
    assert b"/ETSI.CAdES.detached" in pdf  # PAdES baseline signature
    assert world.services.certificates.signer.verify(pdf).valid
    code = c["verify_url"].rsplit("/", 1)[1]
    r = client_for(world).post(
        f"/api/v1/verify?code={code}", content=pdf, headers={"Content-Type": "application/pdf"}
    )
    assert r.json()["valid"] is True
    assert r.json()["matches_record"] is True
    # the device is now calibrated, due a year later (once the engine recomputed it)
    compute_due_states(world)
    device = client_for(world).get("/api/v1/devices", headers=api_token(world, world.a.user)).json()
    assert device[0]["due_date"] == "2027-03-01"
    assert device[0]["due_state"] == "ok"


def _signed_position(pdf: bytes, where: float) -> int:
    """A byte at ``where`` of the signed byte ranges: the signature's own /Contents hex string
    (mostly zero padding) is outside them by design, so a flip there changes no content."""
    m = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", pdf)
    assert m is not None
    a, b, c, d = (int(x) for x in m.groups())
    covered = [*range(a, a + b), *range(c, c + d)]
    return covered[int(len(covered) * where)]


@pytest.mark.parametrize("where", [0.3, 0.5, 0.7, 0.9, 0.999])
def test_flipping_one_byte_makes_verification_fail(world: World, where: float) -> None:
    c = record_calibration(world, _device(world), "C-1")
    pdf = bytearray(_pdf(world, c["id"]))
    pdf[_signed_position(bytes(pdf), where)] ^= 0x01
    result = world.services.certificates.signer.verify(bytes(pdf))
    assert not result.valid
    code = c["verify_url"].rsplit("/", 1)[1]
    page = client_for(world).post(
        f"/verify/{code}", files={"file": ("c.pdf", bytes(pdf), "application/pdf")}
    )
    assert "Not valid" in page.text


def test_certificate_signed_by_another_key_is_not_trusted(world: World, tmp_path: Path) -> None:
    key, cert = make_signing_pair(tmp_path / "other", "Forger")
    forger = CertificateSigner(key, cert)
    fake = FPDF()
    fake.add_page()
    fake.set_font("helvetica", size=12)
    fake.text(10, 10, "Calibration certificate LC-FAKE: PASSED")
    result = world.services.certificates.signer.verify(forger.sign(bytes(fake.output())))
    assert not result.valid
    assert result.reason == "the signature is not by the provider's key"


def test_bytes_appended_after_signing_are_detected(world: World) -> None:
    c = record_calibration(world, _device(world), "C-1")
    result = world.services.certificates.signer.verify(_pdf(world, c["id"]) + b"\n% added\n")
    assert not result.valid


def _pdf_text(pdf: bytes) -> str:
    """The text drawn in the PDF's (deflated) content streams."""
    chunks = []
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            chunks.append(zlib.decompress(m.group(1)).decode("latin-1"))
        except zlib.error:
            continue
    return " ".join(re.findall(r"\((.*?)\) ?Tj", " ".join(chunks)))


def test_certificate_contains_the_full_protocol(world: World) -> None:
    world.services.certificates.profiles.set_customer(
        world.a.tenant.id, CustomerProfile("1 Lab Road, Town", next_due_on_certificate=True)
    )
    c = record_calibration(world, _device(world), "C-1")
    text = _pdf_text(_pdf(world, c["id"]))
    for expected in (
        c["number"],
        "Replicates",
        "Z factor",
        "MPE",
        "uncertainty",
        "water 20.5",
        "101.3 kPa",
        "55 % rh",
        "Mettler XPR26",
        "B-77",
        "DAkkS D-K-12345",
        "Tara Technician",
        "2027-03-01",
        "Conforming: conformity with the stated limits is declared",
        "Decision rule: simple acceptance",
        "Lab A",
        "A Main building",
        c["verify_url"],
        "1 Lab Road, Town",
    ):
        assert expected in text, expected


def test_next_due_date_only_when_the_customer_asked_for_it(world: World) -> None:
    """ISO/IEC 17025 §7.8.4.3: no recommended calibration interval unless agreed."""
    c = record_calibration(world, _device(world), "C-1")
    assert c["next_due"] == "2027-03-01"  # the portal still tracks it
    assert "2027-03-01" not in _pdf_text(_pdf(world, c["id"]))


def test_public_verification_page_shows_record_without_login(world: World) -> None:
    c = record_calibration(world, _device(world), "C-1")
    code = c["verify_url"].rsplit("/", 1)[1]
    page = client_for(world).get(f"/verify/{code}")
    assert page.status_code == 200
    assert c["number"] in page.text
    assert "Acme P100" in page.text
    assert "Tara Technician" not in page.text  # no personal data on the public page
    assert client_for(world).get("/verify/not-a-code").status_code == 404


def test_run_for_another_device_is_refused(world: World) -> None:
    device_id = _device(world)
    client = client_for(world)
    body = {"device_id": device_id, "run": sample_run("OTHER-SERIAL"), "balance_traceability": "x"}
    r = client.post("/api/v1/calibrations", json=body, headers=api_token(world, world.planner))
    assert r.status_code == 422
    assert "OTHER-SERIAL" in r.json()["detail"]
    # a lab user may not record calibrations
    body["run"] = sample_run("C-1")
    r = client.post("/api/v1/calibrations", json=body, headers=api_token(world, world.a.admin))
    assert r.status_code == 403


def test_failing_run_gives_failed_certificate(world: World) -> None:
    c = record_calibration(world, _device(world), "C-1", bias_mg=5.0)  # +5 % systematic error
    assert c["passed"] is False
    assert (c["verdict"], c["verdict_label"]) == ("not_conforming", "Not conforming")


def test_audit_export_zip_has_pdfs_and_csv_for_the_range(world: World) -> None:
    from datetime import UTC, datetime

    device_id = _device(world)
    early = record_calibration(world, device_id, "C-1", ended_at=datetime(2025, 6, 1, tzinfo=UTC))
    late = record_calibration(world, device_id, "C-1", ended_at=datetime(2026, 2, 1, tzinfo=UTC))
    r = client_for(world).get(
        "/api/v1/audit-export?start=2026-01-01&end=2026-12-31",
        headers=api_token(world, world.a.admin),
    )
    assert r.status_code == 200
    zf = zipfile.ZipFile(io.BytesIO(r.content))
    assert sorted(zf.namelist()) == sorted(
        [f"{late['number']}.pdf", f"{late['number']}.dcc.xml", "certificates.csv"]
    )
    rows = list(csv.DictReader(io.StringIO(zf.read("certificates.csv").decode())))
    assert [row["certificate"] for row in rows] == [late["number"]]
    assert world.services.certificates.signer.verify(zf.read(f"{late['number']}.pdf")).valid
    assert world.services.certificates.dcc_signer.verify(zf.read(f"{late['number']}.dcc.xml")).valid
    assert rows[0]["dcc_file"] == f"{late['number']}.dcc.xml"
    assert early["number"] not in r.content.decode("latin-1")
