"""The device page: due state, calibration history with links, SVG charts against the MPE."""

from __future__ import annotations

import re
from datetime import UTC, datetime

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
