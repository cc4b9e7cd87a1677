"""Capture the portal screenshots in this folder with Debian's Chromium (Playwright).

    .venv/bin/python docs/screenshots/capture.py

Seeds demo data (300 devices, calibrations with signed certificates, bookings) into a temporary
SQLite database, serves the portal with uvicorn and saves overview.png, device.png, booking.png,
kpis.png and planning.png beside this file (desktop width) plus overview-mobile.png.
"""

from __future__ import annotations

import socket
import tempfile
import threading
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from playwright.sync_api import Page, sync_playwright

from labcal_cloud.accounts.model import Role
from labcal_cloud.portal.app import build_services, create_app
from labcal_cloud.portal.demo import seed_demo
from labcal_cloud.portal.settings import PortalSettings
from labcal_shared.contracts import GravimetricRun

HERE = Path(__file__).parent
PASSWORD = "demo-password-1"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def signing_pair(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "LabCal Service (demo)")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    k, c = folder / "key.pem", folder / "cert.pem"
    k.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    c.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return k, c


def run_for(model: str, serial: str, ended: datetime, bias: float) -> GravimetricRun:
    spread = (-0.05, 0.03, 0.01, -0.02, 0.04, -0.03, 0.0, 0.02, -0.01, 0.03)
    return GravimetricRun.model_validate(
        {
            "run_id": str(uuid.uuid4()),
            "mode": "calibration",
            "pipette": {"type": "pipette", "make": "Acme", "model": model, "serial": serial},
            "nominal_volume_ul": 100.0,
            "balance": {"type": "balance", "make": "Mettler", "model": "XPR26", "serial": "B-77"},
            "balance_readability_mg": 0.001,
            "environment": [
                {
                    "air_temp_c": 21.2,
                    "water_temp_c": 20.6,
                    "pressure_kpa": 100.9,
                    "humidity_pct": 52.0,
                }
            ],
            "test_volumes": [
                {
                    "volume_ul": v,
                    "masses_mg": [
                        round(v * 0.99707 * (1 + bias / 100) + d * v / 100, 4) for d in spread
                    ],
                }
                for v in (10.0, 50.0, 100.0)
            ],
            "operator": "Tom Keller",
            "started_at": (ended - timedelta(minutes=40)).isoformat(),
            "ended_at": ended.isoformat(),
        }
    )


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    key, cert = signing_pair(tmp)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = PortalSettings(
        database_url=f"sqlite:///{tmp / 'demo.sqlite3'}",
        signing_key=key,
        signing_cert=cert,
        base_url=f"http://127.0.0.1:{port}",
        fast_password_hashing=True,
        link_secret="d" * 40,
    )
    services = build_services(settings)
    logins = seed_demo(services, 300, PASSWORD)
    tenant = logins.tenant_id
    lines, _ = services.registry.overview_page(tenant, date.today(), logins.site_ids[0], limit=3)
    device = lines[0].device
    today = datetime.now(UTC)
    for years, bias in ((3, 0.2), (2, 0.5), (1, 0.9)):
        services.db.execute("UPDATE portal_devices SET model = 'P100' WHERE id = ?", (device.id,))
        services.certificates.record(
            device.id,
            run_for("P100", device.serial, today - timedelta(days=365 * years - 20), bias),
            balance_traceability="DAkkS D-K-15195-01-00, cert 2025-117",
            balance_valid_until=today + timedelta(days=200),
        )
    user = services.accounts.users(tenant)[0]
    assert user.role is Role.LAB_ADMIN
    for line in lines[1:]:
        slot = services.bookings.slots()[0]
        services.bookings.book(user, logins.site_ids[0], slot.day, [line.device.id])
    app = create_app(settings, services=services)
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", ws="none", lifespan="off"
        )
    )
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}"

    def login(page: Page, email: str) -> None:
        page.goto(f"{url}/login")
        page.fill("#email", email)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        desk = browser.new_page(viewport={"width": 1280, "height": 900})
        login(desk, logins.lab_admin)
        desk.goto(f"{url}/devices")
        desk.screenshot(path=HERE / "overview.png", full_page=False)
        desk.goto(f"{url}/devices/{device.id}")
        desk.screenshot(path=HERE / "device.png", full_page=True)
        desk.goto(f"{url}/bookings/new?site_id={logins.site_ids[0]}")
        desk.screenshot(path=HERE / "booking.png", full_page=False)
        mobile = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
        login(mobile, logins.lab_admin)
        mobile.goto(f"{url}/devices")
        mobile.screenshot(path=HERE / "overview-mobile.png")
        prov = browser.new_page(viewport={"width": 1280, "height": 900})
        login(prov, logins.planner)
        prov.goto(f"{url}/provider/kpis")
        prov.screenshot(path=HERE / "kpis.png", full_page=True)
        prov.goto(f"{url}/provider/planning")
        prov.screenshot(path=HERE / "planning.png", full_page=True)
        browser.close()
    server.should_exit = True
    print("saved", ", ".join(sorted(p.name for p in HERE.glob("*.png"))))


if __name__ == "__main__":
    main()
