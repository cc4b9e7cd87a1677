"""The machine-readable certificate: a PTB DCC (XML) beside every PDF, from the same document,
keeping to the DCC 3.3.0 schema (``dcc_schema``), XML-DSig signed with the provider's key,
downloadable from the portal and from the verification page, and verifiable there."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from lxml import etree

from labcal_cloud.certificates.dcc_signing import DccSigner

from ..portal.helpers import World, api_token, client_for, make_signing_pair
from . import dcc_schema
from .pipeline_runs import LAB, certify_through_pipeline, pipette_run, set_profiles
from .test_certificate_fields import END, VOLUMES

NS = {"dcc": dcc_schema.DCC, "si": dcc_schema.SI, "ds": dcc_schema.DS}


def _issue(world: World, channels: int, conforming: bool) -> tuple[str, bytes]:
    set_profiles(world, next_due_asked=conforming)
    if conforming:
        runs = [
            pipette_run("D-1", channels=channels, ended_at=END - timedelta(hours=1),
                        phase="as_found", bias_ul={1: 2.5}),
            pipette_run("D-1", channels=channels, ended_at=END, phase="as_left"),
        ]  # fmt: skip
    else:
        runs = [pipette_run("D-1", channels=channels, ended_at=END, bias_ul={channels: 2.5})]
    issued = certify_through_pipeline(world, *runs)[-1]
    _, xml = world.services.certificates.dcc(world.a.tenant.id, issued.calibration.id)
    return issued.calibration.id, xml


def _texts(root: etree._Element, xpath: str) -> list[str]:
    return [str(x) for x in root.xpath(xpath, namespaces=NS)]


@pytest.mark.parametrize(("channels", "conforming"), [(1, True), (1, False), (8, True), (8, False)])
def test_dcc_keeps_to_the_schema_and_says_what_the_pdf_says(
    any_world: World, channels: int, conforming: bool
) -> None:
    calibration_id, xml = _issue(any_world, channels, conforming)
    assert dcc_schema.check(xml) == []
    root = etree.fromstring(xml)
    number = any_world.services.certificates.get(any_world.a.tenant.id, calibration_id).number
    adm = "/dcc:digitalCalibrationCertificate/dcc:administrativeData"
    assert _texts(root, f"{adm}/dcc:coreData/dcc:uniqueIdentifier/text()") == [number]
    assert _texts(root, f"{adm}/dcc:coreData/dcc:countryCodeISO3166_1/text()") == ["DE"]
    assert _texts(root, f"{adm}/dcc:coreData/dcc:receiptDate/text()") == ["2026-02-27"]
    assert _texts(root, f"{adm}/dcc:coreData/dcc:endPerformanceDate/text()") == ["2026-03-01"]
    assert _texts(root, f"{adm}/dcc:coreData/dcc:issueDate/text()") == ["2026-03-02"]
    item = f"{adm}/dcc:items/dcc:item"
    assert _texts(root, f"{item}/dcc:identifications/dcc:identification/dcc:value/text()") == [
        "D-1"
    ]
    assert _texts(root, f"{item}/dcc:model/text()") == [f"P100-{channels}ch"]
    lab = f"{adm}/dcc:calibrationLaboratory"
    assert _texts(root, f"{lab}/dcc:calibrationLaboratoryCode/text()") == [LAB.accreditation_id]
    assert _texts(root, f"{adm}/dcc:respPersons/dcc:respPerson/dcc:role/text()") == [
        LAB.signatory_role
    ]
    statement = f"{adm}/dcc:statements/dcc:statement"
    conformity = _texts(root, f"{statement}[@refType='labcal_conformity']/dcc:conformity/text()")
    assert conformity == (["pass"] if conforming else ["fail"])
    next_due = _texts(root, f"{statement}[@refType='labcal_nextDue']")
    assert len(next_due) == (1 if conforming else 0)

    # every channel and volume, with U, k and the coverage probability, and its verdict
    main = "/dcc:digitalCalibrationCertificate/dcc:measurementResults/dcc:measurementResult[1]"
    results = root.xpath(f"{main}/dcc:results/dcc:result", namespaces=NS)
    assert len(results) == channels * len(VOLUMES)
    seen = set()
    for r in results:

        def value(ref: str, r: etree._Element = r) -> float:
            [v] = r.xpath(
                f".//dcc:quantity[@refType='{ref}']/si:real/si:value/text()", namespaces=NS
            )
            return float(v)

        seen.add((int(value("labcal_channel")), value("labcal_testVolume")))
        [k] = r.xpath(".//si:coverageFactor/text()", namespaces=NS)
        [p] = r.xpath(".//si:coverageProbability/text()", namespaces=NS)
        assert float(p) == 0.9545  # k from ν_eff: t_95.45(⌊ν_eff⌋), 2 only for ν_eff = ∞
        assert float(k) >= 2.0
        replicates = r.xpath(".//si:realListXMLList/si:valueXMLList/text()", namespaces=NS)
        assert len(replicates[0].split()) == 10
        [verdict] = r.xpath(".//dcc:metaData/dcc:conformity/text()", namespaces=NS)
        bad = not conforming and int(value("labcal_channel")) == channels
        assert verdict == ("fail" if bad else "pass")
    assert seen == {(ch, v) for ch in range(1, channels + 1) for v in VOLUMES}
    equipment = _texts(root, f"{main}/dcc:measuringEquipments/dcc:measuringEquipment/@refType")
    assert equipment == [
        "labcal_balance", "labcal_thermometer", "labcal_barometer", "labcal_hygrometer"
    ]  # fmt: skip
    phases = _texts(root, "//dcc:measurementResult/@refType")
    assert phases == (
        ["labcal_asLeft", "labcal_asFoundBeforeAdjustment"]
        if conforming
        else ["labcal_calibration"]
    )
    assert any_world.services.certificates.dcc_signer.verify(xml).valid


def test_the_schema_check_finds_what_is_wrong() -> None:
    """The check itself can fail: a missing required element, a bad date, wrong order."""
    ns = f'xmlns:dcc="{dcc_schema.DCC}"'
    bad = (
        f'<dcc:digitalCalibrationCertificate {ns} schemaVersion="3.3.0"><dcc:administrativeData>'
        "<dcc:coreData><dcc:usedLangCodeISO639_1>en</dcc:usedLangCodeISO639_1>"
        "<dcc:countryCodeISO3166_1>de</dcc:countryCodeISO3166_1>"
        "<dcc:beginPerformanceDate>2026-13-01</dcc:beginPerformanceDate>"
        "</dcc:coreData></dcc:administrativeData></dcc:digitalCalibrationCertificate>"
    ).encode()
    problems = "\n".join(dcc_schema.check(bad))
    for expected in (
        "measurementResults occurs 0 times",
        "dccSoftware occurs 0 times",
        "'de' is not a valid iso3166",
        "'2026-13-01' is not a valid date",
        "children out of the schema's order",
        "uniqueIdentifier occurs 0 times",
    ):
        assert expected in problems, expected


def test_a_changed_dcc_or_another_key_does_not_verify(any_world: World, tmp_path: Path) -> None:
    _, xml = _issue(any_world, 1, True)
    signer = any_world.services.certificates.dcc_signer
    assert signer.verify(xml).valid
    changed = xml.replace(b"<dcc:conformity>pass<", b"<dcc:conformity>fail<", 1)
    assert changed != xml
    assert not signer.verify(changed).valid
    root = etree.fromstring(xml)
    for sig in root.xpath("//ds:Signature", namespaces=NS):
        sig.getparent().remove(sig)
    unsigned = etree.tostring(root)
    assert not signer.verify(unsigned).valid
    key, cert = make_signing_pair(tmp_path / "other", "Forger")
    forged = DccSigner(key, cert).sign(unsigned)
    result = signer.verify(forged)
    assert not result.valid
    assert not signer.verify(b"not xml").valid


def test_dcc_downloads_and_verification(any_world: World) -> None:
    w = any_world
    calibration_id, xml = _issue(w, 8, False)
    client = client_for(w)
    r = client.get(f"/api/v1/calibrations/{calibration_id}", headers=api_token(w, w.a.user))
    assert r.json()["dcc_url"] == f"/api/v1/calibrations/{calibration_id}/certificate.xml"
    r = client.get(r.json()["dcc_url"], headers=api_token(w, w.a.user))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/xml")
    assert r.content == xml
    number = w.services.certificates.get(w.a.tenant.id, calibration_id).number
    assert f'filename="{number}.dcc.xml"' in r.headers["content-disposition"]
    # another lab cannot fetch it
    r = client.get(f"/api/v1/calibrations/{calibration_id}/certificate.xml",
                   headers=api_token(w, w.b.user))  # fmt: skip
    assert r.status_code == 404

    code = w.services.certificates.get(w.a.tenant.id, calibration_id).verify_code
    page = client.get(f"/verify/{code}")
    assert f'href="/verify/{code}/dcc.xml"' in page.text
    public = client.get(f"/verify/{code}/dcc.xml")
    assert public.status_code == 200
    assert public.content == xml
    r = client.post(
        f"/api/v1/verify/dcc?code={code}", content=xml, headers={"Content-Type": "application/xml"}
    )
    assert r.json()["valid"] is True
    assert r.json()["matches_record"] is True
    changed = xml.replace(b"D-1<", b"D-2<", 1)
    upload = client.post(f"/verify/{code}", files={"file": ("c.xml", changed, "application/xml")})
    assert "Not valid" in upload.text
    upload = client.post(f"/verify/{code}", files={"file": ("c.xml", xml, "application/xml")})
    assert "Valid: signature valid" in upload.text
    assert client.get("/verify/not-a-code/dcc.xml").status_code == 404
