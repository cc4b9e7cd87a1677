"""The device page: due state, calibration history with links, SVG charts against the MPE."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from labcal_cloud.registry.model import NOT_COMPUTED

from .engine_due import compute_due_states
from .helpers import World, api_token, client_for, record_calibration


def test_device_page_shows_history_and_charts(world: World) -> None:
    client = client_for(world)
    headers = api_token(world, world.a.admin)
    body = {"site_id": world.a.site.id, "serial": "D-1", "make": "Acme", "model": "P100"}
    device_id = client.post("/api/v1/devices", json=body, headers=headers).json()["id"]
    page = client.get(f"/devices/{device_id}", headers=headers).text
    assert "No calibration on record yet." in page
    assert "<svg" not in page
    first = record_calibration(world, device_id, "D-1", ended_at=datetime(2025, 3, 1, tzinfo=UTC))
    second = record_calibration(world, device_id, "D-1", bias_mg=0.5)
    for week, cycles in (("2026-02-23", 120), ("2026-03-02", 340)):
        r = client.put(
            f"/api/v1/devices/{device_id}/usage/{week}", json={"cycles": cycles}, headers=headers
        )
        assert r.status_code == 204
    page = client.get(f"/devices/{device_id}", headers=headers).text
    assert page.count("<svg") == 3
    assert 'aria-label="Systematic error against MPE"' in page
    assert 'aria-label="Usage per week"' in page
    assert "MPE</text>" in page
    # newest first, each with certificate and verification links
    links = re.findall(r'href="/certificates/(\w+)\.pdf"', page)
    assert links == [second["id"], first["id"]]
    assert '<p class="kpi">340</p>' in page  # usage since the last calibration only
    assert client.get(f"/certificates/{first['id']}.pdf", headers=headers).content.startswith(
        b"%PDF"
    )


def test_device_page_shows_the_engines_due_state(world: World) -> None:
    client = client_for(world)
    headers = api_token(world, world.a.admin)
    body = {"site_id": world.a.site.id, "serial": "D-2", "make": "Acme", "model": "P100"}
    device_id = client.post("/api/v1/devices", json=body, headers=headers).json()["id"]
    record_calibration(world, device_id, "D-2", ended_at=datetime(2025, 3, 20, 10, tzinfo=UTC))
    page = client.get(f"/devices/{device_id}", headers=headers).text
    assert ">Unknown</span>" in page
    assert NOT_COMPUTED in page
    compute_due_states(world)
    page = client.get(f"/devices/{device_id}", headers=headers).text
    (reason,) = world.services.db.one(
        "SELECT reason FROM device_due_state WHERE device_id = ?", (device_id,)
    ) or ("",)
    assert reason == "due in 18 days: 365-day interval since the calibration on 2025-03-20"
    assert ">Due soon</span>" in page
    assert reason in page
    assert 'Next due</div><p><time datetime="2026-03-20">Fri 20 Mar 2026</time></p>' in page


def test_a_calibration_from_before_labcal_is_not_called_none(world: World) -> None:
    """Seeded and migrated devices have a last calibration date but no LabCal certificate: the
    page says so once, instead of a date beside "No calibration on record yet"."""
    client = client_for(world)
    headers = api_token(world, world.a.admin)
    body = {"site_id": world.a.site.id, "serial": "D-9", "make": "Acme", "model": "P100"}
    device_id = client.post("/api/v1/devices", json=body, headers=headers).json()["id"]
    world.services.registry.mark_calibrated(device_id, datetime(2025, 6, 3, tzinfo=UTC), 365)
    page = client.get(f"/devices/{device_id}", headers=headers).text
    assert "No calibration on record yet." not in page
    assert "none on record" not in page
    assert "Tue 3 Jun 2025, before LabCal (no certificate here)" in page
    assert "Calibrated before LabCal: its certificate is not in LabCal." in page
