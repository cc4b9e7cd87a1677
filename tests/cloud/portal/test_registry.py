"""Device registry: orders with claim codes, QR label PDF, claim page, manual add, CSV import."""

from __future__ import annotations

import re

from labcal_cloud.registry.model import NOT_COMPUTED
from labcal_cloud.registry.store import OrderItem

from .engine_due import compute_due_states
from .helpers import PASSWORD, World, api_token, client_for, login


def _order(world: World, client_headers: dict[str, str], n: int = 3) -> list[dict[str, str]]:
    client = client_for(world)
    devices = [
        {"make": "Acme", "model": "P100", "serial": f"SN{i:04d}", "nominal_volume_ul": 100}
        for i in range(n)
    ]
    r = client.post(
        "/api/v1/orders", json={"order_ref": "ORD-1", "devices": devices}, headers=client_headers
    )
    assert r.status_code == 201, r.text
    out: list[dict[str, str]] = r.json()
    return out


def test_order_creates_claim_codes_and_label_pdf_with_one_qr_per_device(world: World) -> None:
    provider = api_token(world, world.planner)
    codes = _order(world, provider, n=25)
    assert len({c["claim_code"] for c in codes}) == 25
    assert all(c["claim_url"] == f"http://portal.test/claim/{c['claim_code']}" for c in codes)
    client = client_for(world)
    pdf = client.get("/api/v1/orders/ORD-1/labels.pdf", headers=provider)
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    assert len(re.findall(rb"/Subtype\s*/Image", pdf.content)) == 25
    assert len(re.findall(rb"/Type\s*/Page(?!s)", pdf.content)) == 2  # 24 labels per page
    # customers may not create orders
    assert client.post(
        "/api/v1/orders",
        json={"order_ref": "X", "devices": []},
        headers=api_token(world, world.a.admin),
    ).status_code in (403, 422)


def test_claim_by_qr_link_after_login_takes_two_submits(world: World) -> None:
    code = _order(world, api_token(world, world.planner), n=1)[0]["claim_code"]
    client = client_for(world)
    r = client.get(f"/claim/{code}", follow_redirects=False)
    assert r.status_code == 303
    next_url = r.headers["location"]
    assert next_url == f"/login?next=/claim/{code}"
    # click 1: log in; lands back on the claim page
    r = client.post(
        "/login", data={"email": world.a.user.email, "password": PASSWORD, "next": f"/claim/{code}"}
    )
    assert "Register your Acme P100" in r.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', r.text)
    assert csrf is not None
    # click 2: register
    r = client.post(
        f"/claim/{code}", data={"csrf_token": csrf.group(1), "site_id": world.a.site.id}
    )
    assert r.status_code == 200
    assert "SN0000" in r.text
    devices = client.get("/api/v1/devices").json()
    assert [d["serial"] for d in devices] == ["SN0000"]
    # another tenant cannot claim it any more
    other = client_for(world)
    r = other.post(
        f"/api/v1/claims/{code}",
        json={"site_id": world.b.site.id},
        headers=api_token(world, world.b.admin),
    )
    assert r.status_code == 409


def test_claim_form_without_csrf_is_refused(world: World) -> None:
    code = _order(world, api_token(world, world.planner), n=1)[0]["claim_code"]
    client = client_for(world)
    login(client, world.a.user)
    r = client.post(f"/claim/{code}", data={"site_id": world.a.site.id})
    assert r.status_code == 403
    assert client.get("/api/v1/devices").json() == []


def test_manual_add_claims_sold_device_and_refuses_duplicates(world: World) -> None:
    _order(world, api_token(world, world.planner), n=1)
    client = client_for(world)
    headers = api_token(world, world.a.admin)
    body = {"site_id": world.a.site.id, "serial": "SN0000", "make": "Acme", "model": "P100"}
    r = client.post("/api/v1/devices", json=body, headers=headers)
    assert r.status_code == 201
    assert r.json()["nominal_volume_ul"] == 100  # the sold device's data, not a new row
    assert client.post("/api/v1/devices", json=body, headers=headers).status_code == 409
    body_b = {**body, "site_id": world.b.site.id}
    assert (
        client.post(
            "/api/v1/devices", json=body_b, headers=api_token(world, world.b.admin)
        ).status_code
        == 409
    )
    # a site of another tenant is unknown
    new = {**body, "serial": "NEW1"}
    assert (
        client.post(
            "/api/v1/devices", json={**new, "site_id": world.b.site.id}, headers=headers
        ).status_code
        == 404
    )


def test_csv_import_reports_errors_per_row(world: World) -> None:
    client = client_for(world)
    csrf = login(client, world.a.admin)
    csv_text = (
        "serial,make,model,nominal_volume_ul,site\n"
        "A1,Acme,P100,100,\n"
        ",Acme,P100,100,\n"
        "A3,Acme,P200,lots,\n"
        "A1,Acme,P100,100,\n"
        "A5,Acme,P10,10,Nowhere\n"
        "A6,Acme,P10,10,a main building\n"
    )
    r = client.post(
        "/devices/import",
        data={"csrf_token": csrf, "site_id": world.a.site.id},
        files={"file": ("devices.csv", csv_text.encode(), "text/csv")},
    )
    assert r.status_code == 200
    assert "2 device(s) added." in r.text
    rows = re.findall(r"<tr><td>(\d+)</td><td>([^<]+)</td></tr>", r.text)
    assert [int(line) for line, _ in rows] == [3, 4, 5, 6]
    assert "empty serial" in rows[0][1]
    assert "not a number" in rows[1][1]
    assert "duplicate of line 2" in rows[2][1]
    assert "unknown site" in rows[3][1]
    serials = sorted(d["serial"] for d in client.get("/api/v1/devices").json())
    assert serials == ["A1", "A6"]


def test_csv_import_api_refuses_missing_header(world: World) -> None:
    client = client_for(world)
    r = client.post(
        f"/api/v1/devices/import?site_id={world.a.site.id}",
        content=b"sn,type\n1,2\n",
        headers={**api_token(world, world.a.admin), "Content-Type": "text/csv"},
    )
    assert r.status_code == 200
    assert r.json() == {
        "added": 0,
        "errors": [{"line": 1, "message": "header lacks column(s): serial, make, model"}],
    }


def test_overview_filters_by_state_and_site_with_reason(world: World) -> None:
    client = client_for(world)
    headers = api_token(world, world.a.admin)
    annex = client.post("/api/v1/sites", json={"name": "Annex"}, headers=headers).json()
    for serial, site in (("S1", world.a.site.id), ("S2", annex["id"])):
        client.post(
            "/api/v1/devices",
            json={"site_id": site, "serial": serial, "make": "Acme", "model": "P100"},
            headers=headers,
        )
    devices = client.get("/api/v1/devices", headers=headers).json()
    s1 = next(d for d in devices if d["serial"] == "S1")
    calibrated = world.clock.at.replace(year=2025, month=3, day=20)
    world.services.registry.mark_calibrated(s1["id"], calibrated, 365)
    # until the engine computed them, both are unknown
    assert {(d["serial"], d["due_state"], d["due_reason"]) for d in devices} == {
        ("S1", "unknown", NOT_COMPUTED),
        ("S2", "unknown", NOT_COMPUTED),
    }
    compute_due_states(world)
    overdue = client.get("/api/v1/devices?state=due_soon", headers=headers).json()
    assert [d["serial"] for d in overdue] == ["S1"]
    assert overdue[0]["due_colour"] == "amber"
    assert overdue[0]["due_reason"] == (
        "due in 18 days: 365-day interval since the calibration on 2025-03-20"
    )
    assert overdue[0]["due_date"] == "2026-03-20"
    never = client.get(f"/api/v1/devices?site_id={annex['id']}", headers=headers).json()
    assert [(d["serial"], d["due_state"]) for d in never] == [("S2", "due")]
    assert never[0]["due_reason"] == "due now: no calibration on record"
    page = client.get("/devices?state=due_soon", headers=headers)
    assert "S1" in page.text
    assert "SN S2" not in page.text


def test_overview_pages_hold_every_device_once(world: World) -> None:
    reg = world.services.registry
    for i in range(230):
        reg.add(world.a.tenant.id, world.a.site.id, OrderItem("Acme", "P100", f"PG-{i:03d}"))
    client = client_for(world)
    headers = api_token(world, world.a.user)
    seen = []
    for page in (1, 2, 3):
        html = client.get(f"/devices?page={page}", headers=headers).text
        assert f"Page {page} of 3" in html
        seen += re.findall(r"SN (PG-\d+)", html)
    assert sorted(seen) == [f"PG-{i:03d}" for i in range(230)]
    beyond = client.get("/devices?page=9", headers=headers).text
    assert "Page 3 of 3" in beyond
    assert len(re.findall(r"SN (PG-\d+)", beyond)) == 30
