"""One calibration, one verdict, worded the same on the certificate, the device page's history,
the public verification page and the API: a run within limits but at 45 % RH is "Within
limits, conformity not stated (finding)" everywhere — amber, never a green Pass."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from labcal_shared.iso8655 import Verdict, verdict_label

from .helpers import World, api_token, client_for, sample_run

LABEL = verdict_label(Verdict.CONFORMING_WITH_FINDING)


def test_a_limited_verdict_is_worded_alike_everywhere(world: World) -> None:
    client = client_for(world)
    admin = api_token(world, world.a.admin)
    body = {"site_id": world.a.site.id, "serial": "W-1", "make": "Acme", "model": "P100"}
    device_id = client.post("/api/v1/devices", json=body, headers=admin).json()["id"]
    run = sample_run("W-1")
    for sample in run["environment"]:  # type: ignore[attr-defined]
        sample["humidity_pct"] = 45.0
    r = client.post(
        "/api/v1/calibrations",
        json={"device_id": device_id, "run": run, "balance_traceability": "DAkkS D-K-1"},
        headers=api_token(world, world.planner),
    )
    assert r.status_code == 201, r.text
    c = r.json()
    assert (c["verdict"], c["verdict_label"], c["passed"]) == (
        "conforming_with_finding",
        LABEL,
        False,
    )

    page = client.get(f"/devices/{device_id}", headers=admin).text
    badge = re.search(r'<span class="state (\w+)" data-verdict="(\w+)">([^<]+)</span>', page)
    assert badge is not None
    assert badge.groups() == ("amber", "conforming_with_finding", LABEL)
    assert ">Pass<" not in page

    code = c["verify_url"].rsplit("/", 1)[1]
    public = client.get(f"/verify/{code}").text
    assert f'data-verdict="conforming_with_finding">{LABEL}<' in public
    assert client.get(f"/api/v1/verify/{code}").json()["verdict_label"] == LABEL

    if shutil.which("pdftotext") is None:
        pytest.skip("needs poppler-utils for the certificate's text")
    pdf = client.get(f"/api/v1/calibrations/{c['id']}/certificate.pdf", headers=admin).content
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    flat = " ".join(text.split())
    assert f"{LABEL}: every result is within its limit" in flat
    assert "relative humidity fell to 45 %" in flat  # the reason, as a finding and a reason
    assert "PASSED" not in flat
