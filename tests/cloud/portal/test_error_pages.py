"""One error page for every HTML route (what happened, what to do, a way back), JSON for the
machine routes; the forms that used to answer raw errors keep the form with a message."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient

from labcal_cloud.registry.store import OrderItem

from .engine_due import compute_due_states
from .helpers import World, api_token, client_for, login

HTML = {"Accept": "text/html,application/xhtml+xml"}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_world(request: pytest.FixtureRequest) -> World:
    world: World = request.getfixturevalue("world" if request.param == "sqlite" else "pg_world")
    return world


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def _signed_in(w: World) -> tuple[TestClient, str]:
    client = client_for(w)
    login(client, w.a.admin)
    return client, _csrf(client.get("/devices").text)


def _due_devices(w: World, n: int) -> list[str]:
    w.services.bookings.add_technician("Tom", [0, 1, 2, 3, 4], 3)
    ids = []
    for i in range(n):
        device = w.services.registry.add(
            w.a.tenant.id, w.a.site.id, OrderItem("Acme", "P100", f"E-{i}", 100)
        )
        w.services.registry.mark_calibrated(device.id, datetime(2025, 3, 20, tzinfo=UTC), 365)
        ids.append(device.id)
    compute_due_states(w)
    return ids


def _is_error_page(r: object, status: int) -> str:
    assert r.status_code == status, r.text  # type: ignore[attr-defined]
    assert r.headers["content-type"].startswith("text/html")  # type: ignore[attr-defined]
    text: str = r.text  # type: ignore[attr-defined]
    assert 'id="error-page"' in text
    assert 'class="button"' in text
    assert '{"detail"' not in text
    return text


def test_unknown_path_is_a_page_for_people_and_json_for_machines(world: World) -> None:
    client, _ = _signed_in(world)
    page = _is_error_page(client.get("/no/such/page", headers=HTML), 404)
    assert "This page does not exist" in page
    assert "Use the menu" in page
    assert 'href="/inbox"' in page  # the menu of the signed-in user
    for machine in ("/api/v1/no-such", "/v1/no-such", "/healthz/x"):
        r = client.get(machine, headers=HTML)
        assert r.status_code == 404
        assert r.json() == {"detail": "Not Found"}
    assert client.get("/devices/nope", headers={"Accept": "application/json"}).json() == {
        "detail": "device not found"
    }


def test_signed_out_error_page_offers_the_login(world: World) -> None:
    page = _is_error_page(client_for(world).get("/nothing-here"), 404)
    assert 'href="/login"' in page


def test_api_validation_errors_stay_json(world: World) -> None:
    client, _ = _signed_in(world)
    r = client.get("/api/v1/audit-export", headers=HTML)
    assert r.status_code == 422
    assert r.json()["detail"][0]["type"] == "missing"


def test_book_without_token_explains_where_the_link_is(world: World) -> None:
    client, _ = _signed_in(world)
    page = _is_error_page(client.get("/book"), 404)
    assert "book in one click" in page
    assert 'href="/bookings"' in page


def test_forbidden_page_says_so_in_words(world: World) -> None:
    client, _ = _signed_in(world)
    page = _is_error_page(client.get("/provider/kpis"), 403)
    assert "You may not open this page" in page


def test_book_with_no_device_ticked_keeps_the_form(any_world: World) -> None:
    world = any_world
    _due_devices(world, 1)
    client, csrf = _signed_in(world)
    form = {"csrf_token": csrf, "site_id": world.a.site.id, "day": "2026-03-04"}
    r = client.post("/bookings", data=form)
    assert r.status_code == 422
    assert "Tick at least one device to book." in r.text
    assert 'action="/bookings"' in r.text  # the form is still there


def test_booked_device_is_shown_booked_and_a_second_booking_names_it(any_world: World) -> None:
    world = any_world
    ids = _due_devices(world, 2)
    client, csrf = _signed_in(world)
    form = {"csrf_token": csrf, "site_id": world.a.site.id, "day": "2026-03-04"}
    first = client.post("/bookings", data={**form, "device_ids": [ids[0]]}, follow_redirects=False)
    assert first.status_code == 303
    booking_url = first.headers["location"]
    page = client.get(f"/bookings/new?site_id={world.a.site.id}").text
    assert f'value="{ids[0]}"' not in page  # not offered again ...
    assert "Booked for Wed 4 Mar 2026" in page
    assert f'href="{booking_url}"' in page
    assert f'value="{ids[1]}" checked' in page
    again = client.post("/bookings", data={**form, "device_ids": ids})  # e.g. a stale form
    assert again.status_code == 409
    assert "Device SN E-0 is already booked for Wed 4 Mar 2026" in again.text
    assert f'href="{booking_url}"' in again.text
    listing = client.get("/devices").text
    assert "Booked for Wed 4 Mar 2026" in listing
    assert "Booked for Wed 4 Mar 2026" in client.get(f"/devices/{ids[0]}").text
    planner = client_for(world)
    login(planner, world.planner)
    plan = planner.get("/provider/planning").text
    row = re.search(r"Lab A / A Main building</td>(.*?)</tr>", plan.split('id="bundles"')[1])
    assert row is not None
    assert row.group(1) == '<td data-label="To book">1</td><td data-label="Booked">1</td>'


def test_bare_verify_is_a_form_that_leads_to_the_certificate_page(world: World) -> None:
    client = client_for(world)
    r = client.get("/verify")
    assert r.status_code == 200
    assert 'name="code"' in r.text
    r = client.get("/verify?code=abc%2F1", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/verify/abc%2F1"
    _is_error_page(client.get("/verify/unknown-code"), 404)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "No export: choose the first day."),
        ("?start=2026-01-01&end=", "No export: choose the last day."),
        ("?start=2026-01-01&end=yesterday", "is not a date"),
        ("?start=2026-02-01&end=2026-01-01", "the end date is before the start date"),
    ],
)
def test_audit_export_without_dates_keeps_the_form(world: World, query: str, message: str) -> None:
    client, _ = _signed_in(world)
    r = client.get(f"/audit/export{query}")
    assert r.status_code == 422
    assert message in r.text
    assert 'id="audit-form"' in r.text


def test_audit_export_form_gives_the_zip(any_world: World) -> None:
    world = any_world
    client, _ = _signed_in(world)
    form = client.get("/audit").text
    start = re.search(r'id="start" name="start" type="date" value="([^"]+)"', form)
    assert start is not None
    assert date.fromisoformat(start.group(1)) < date(2026, 3, 2)
    r = client.get(f"/audit/export?start={start.group(1)}&end=2026-03-02")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/zip"
    assert r.content[:2] == b"PK"


def test_binary_csv_upload_keeps_the_form_with_a_message(world: World) -> None:
    client, csrf = _signed_in(world)
    files = {"file": ("devices.xlsx", b"PK\x03\x04\x00\x00\xff\xfe binary", "application/zip")}
    r = client.post(
        "/devices/import", data={"csrf_token": csrf, "site_id": world.a.site.id}, files=files
    )
    assert r.status_code == 422
    assert "devices.xlsx is not a CSV text file" in r.text
    assert 'enctype="multipart/form-data"' in r.text  # the form, to try again


def test_provider_orders_and_label_sheet_by_form(any_world: World) -> None:
    world = any_world
    client = client_for(world)
    login(client, world.planner)
    assert client.get("/", follow_redirects=False).headers["location"] == "/provider/planning"
    page = client.get("/provider/orders").text
    csrf = _csrf(page)
    bad = client.post(
        "/provider/orders", data={"csrf_token": csrf, "order_ref": "SO-1", "lines": "Acme P200"}
    )
    assert bad.status_code == 422
    assert "Not created: line 1:" in bad.text
    assert "Acme P200" in bad.text
    lines = "Acme, P200, S-1, 200\n\nAcme, P200, S-2"
    r = client.post(
        "/provider/orders", data={"csrf_token": csrf, "order_ref": "SO-1", "lines": lines}
    )
    assert r.status_code == 200
    assert "Order SO-1" in r.text
    assert r.text.count("/claim/") == 2
    pdf = client.get("/provider/orders/SO-1/labels.pdf")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    twice = client.post(
        "/provider/orders", data={"csrf_token": csrf, "order_ref": "SO-1", "lines": lines}
    )
    assert twice.status_code == 409
    assert "exists already" in twice.text
    assert "SO-1" in client.get("/provider/orders").text
    lab = api_token(world, world.a.admin)
    assert client_for(world).get("/provider/orders", headers=lab).status_code == 403


def test_a_bad_booking_link_says_so_and_offers_the_bookings_page(world: World) -> None:
    client, _ = _signed_in(world)
    page = _is_error_page(client.get("/book?token=forged.token"), 404)
    assert "This booking link cannot be used:" in page
    assert 'href="/bookings"' in page
