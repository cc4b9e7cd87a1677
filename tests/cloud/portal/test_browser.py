"""Key portal flows in a real browser (Debian's Chromium, driven by Playwright) on a live server:
login, claim by QR link, book from a reminder link, download and verify a certificate."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from labcal_cloud.portal.app import create_app

from .helpers import PASSWORD, World, api_token, build_world, client_for, record_calibration
from .live_server import CHROMIUM_ARGS, chromium_path, free_port, serve


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def live(tmp_path: Path, signing_pair: tuple[Path, Path]) -> Iterator[tuple[World, str]]:
    port = free_port()
    key, cert = signing_pair
    world = build_world(
        f"sqlite:///{tmp_path / 'live.db'}",
        signing_key=key,
        signing_cert=cert,
        base_url=f"http://127.0.0.1:{port}",
        link_secret="L" * 40,
    )
    app = create_app(world.services.settings, services=world.services)
    with serve(app, port) as url:
        yield world, url
    world.services.db.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 390, "height": 844}, accept_downloads=True)
    p = context.new_page()
    yield p
    context.close()


def _login(page: Page, email: str) -> None:
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")


def test_login_and_logout(live: tuple[World, str], page: Page) -> None:
    world, url = live
    page.goto(f"{url}/devices")
    assert page.url.startswith(f"{url}/login")
    page.fill("#email", world.a.user.email)
    page.fill("#password", "not the password")
    page.click("button[type=submit]")
    assert "wrong e-mail or password" in page.inner_text("[role=alert]")
    _login(page, world.a.user.email)
    page.wait_for_url(f"{url}/devices")
    assert page.inner_text("h1") == "Devices"
    page.click("text=Log out")
    page.wait_for_url(f"{url}/login")
    page.goto(f"{url}/devices")
    assert page.url.startswith(f"{url}/login")


def test_claim_by_qr_link_in_three_clicks(live: tuple[World, str], page: Page) -> None:
    world, url = live
    r = client_for(world).post(
        "/api/v1/orders",
        headers=api_token(world, world.planner),
        json={"order_ref": "O-7", "devices": [{"make": "Acme", "model": "P200", "serial": "Q-1"}]},
    )
    claim_url = r.json()[0]["claim_url"]
    assert claim_url.startswith(url)
    page.goto(claim_url)  # what the phone's camera opens
    _login(page, world.a.user.email)  # click 1
    page.wait_for_url(claim_url)
    assert "Register your Acme P200" in page.inner_text("h1")
    page.click("text=Register device")  # click 2
    page.wait_for_url(f"{url}/devices/*")
    assert "SN Q-1" in page.inner_text("h1")
    devices = (
        client_for(world).get("/api/v1/devices", headers=api_token(world, world.a.user)).json()
    )
    assert [d["serial"] for d in devices] == ["Q-1"]


def test_book_from_reminder_link(live: tuple[World, str], page: Page) -> None:
    world, url = live
    client = client_for(world)
    client.post(
        "/api/v1/technicians",
        headers=api_token(world, world.provider_admin),
        json={"name": "Tom", "weekdays": [0, 1, 2, 3, 4], "daily_slots": 2},
    )
    device = client.post(
        "/api/v1/devices",
        headers=api_token(world, world.a.admin),
        json={"site_id": world.a.site.id, "serial": "R-1", "make": "Acme", "model": "P100"},
    ).json()
    world.services.registry.mark_calibrated(device["id"], datetime(2025, 3, 10, tzinfo=UTC), 365)
    link = client.post(
        "/api/v1/booking-links",
        json={"device_id": device["id"]},
        headers=api_token(world, world.planner),
    ).json()["url"]
    page.goto(link)  # from the reminder e-mail
    _login(page, world.a.admin.email)
    page.wait_for_url(link)
    assert page.is_checked(f"input[value='{device['id']}']")
    page.click("button:has-text('Book')")
    page.wait_for_url(f"{url}/bookings/*")
    assert page.inner_text("#booking-status") == "Booking confirmed."
    bookings = client.get("/api/v1/bookings", headers=api_token(world, world.a.user)).json()
    assert [(b["day"], b["device_ids"]) for b in bookings] == [("2026-03-03", [device["id"]])]
    page.click("button:has-text('Cancel booking')")
    assert page.inner_text("#booking-status") == "Booking cancelled."


def test_download_and_verify_certificate(
    live: tuple[World, str], page: Page, tmp_path: Path
) -> None:
    world, url = live
    device = (
        client_for(world)
        .post(
            "/api/v1/devices",
            headers=api_token(world, world.a.admin),
            json={"site_id": world.a.site.id, "serial": "V-1", "make": "Acme", "model": "P100"},
        )
        .json()
    )
    calibration = record_calibration(world, device["id"], "V-1")
    page.goto(f"{url}/devices/{device['id']}")
    _login(page, world.a.user.email)
    page.wait_for_url(f"{url}/devices/{device['id']}")
    with page.expect_download() as download:
        page.click("text=PDF")
    pdf_path = tmp_path / "certificate.pdf"
    download.value.save_as(pdf_path)
    assert pdf_path.read_bytes().startswith(b"%PDF")
    page.click("text=verify")
    page.wait_for_url(calibration["verify_url"])
    page.set_input_files("#file", str(pdf_path))
    page.click("button:has-text('Verify')")
    assert page.inner_text("#verdict").startswith("Valid: signature valid")
    tampered = bytearray(pdf_path.read_bytes())
    tampered[len(tampered) // 2] ^= 0x01
    bad = tmp_path / "tampered.pdf"
    bad.write_bytes(bytes(tampered))
    page.set_input_files("#file", str(bad))
    page.click("button:has-text('Verify')")
    assert page.inner_text("#verdict").startswith("Not valid")
    # the machine-readable twin (DCC), linked from the verification page, verifies too
    with page.expect_download() as download:
        page.click("#dcc-link")
    dcc_path = tmp_path / "certificate.dcc.xml"
    download.value.save_as(dcc_path)
    assert b"https://ptb.de/dcc" in dcc_path.read_bytes()
    page.set_input_files("#file", str(dcc_path))
    page.click("button:has-text('Verify')")
    assert page.inner_text("#verdict").startswith("Valid: signature valid")
