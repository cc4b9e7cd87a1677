"""One LabCal, end to end, once on SQLite and once on PostgreSQL: the production processes run as
separate OS processes, started as the deploy files start them (migrate, ``portal-serve``,
``ingest``, ``pipeline run``, ``scheduler run``; a private Mosquitto; a real SMTP server).

A simulated balance station (ptys) and a real edge agent run a scripted gravimetric calibration
→ the certificate appears on the device page with its verification link and the device's due
state becomes ok; a scripted quick check of a second pipette gets no certificate, its usage
arrives; that pipette, calibrated 336 days ago through the API (the same engine record), is due
in 29 days: its reminder e-mail carries a booking link → booking through it stops the sequence.
Then everything stops (each exits 0), starts again on the same data, every record is found,
and the booked device gets no further reminder."""

from __future__ import annotations

import re
import secrets
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from labcal_cloud.db.gateway import connect
from labcal_cloud.demo.layout import (
    BALANCE_STATION,
    DemoPaths,
    edge_toml,
    gravimetric_script,
    station_toml,
)
from labcal_cloud.serve.signing import write_signing_pair
from labcal_shared.contracts import (
    DeviceRef,
    DeviceType,
    EnvironmentSample,
    GravimetricRun,
    RunMode,
    TestVolume,
)

from .deployment import BIN, Deployment, free_port, mosquitto, wait_until
from .test_serve_pipeline import Recorder, smtp_server

pytestmark = [pytest.mark.slow, pytest.mark.mqtt]

PASSWORD = "e2e-password-1"
LAB_ADMIN = "qa@e2e-lab.example"
CALIBRATED, QUICK = BALANCE_STATION.pipettes  # LP1000-0101, LP100-0102
CLEAN = ("LABCAL_", "DATABASE_URL")


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'labcal.sqlite3'}"
    return str(request.getfixturevalue("fresh_database_url"))


@pytest.fixture
def mail() -> Iterator[tuple[Recorder, int]]:
    with smtp_server() as server:
        yield server


def _env(tmp_path: Path, url: str, api_port: int, mqtt_port: int) -> dict[str, str]:
    import os

    key, cert = tmp_path / "signing-key.pem", tmp_path / "signing-cert.pem"
    write_signing_pair(key, cert, "E2E Calibration Service")
    env = {k: v for k, v in os.environ.items() if not k.startswith(CLEAN)}
    env.update(
        LABCAL_DATABASE_URL=url,
        LABCAL_PORTAL_DATABASE_URL=url,
        LABCAL_MQTT_URL=f"mqtt://127.0.0.1:{mqtt_port}",
        LABCAL_SIGNING_KEY=str(key),
        LABCAL_SIGNING_CERT=str(cert),
        LABCAL_LINK_SECRET=secrets.token_urlsafe(36),
        LABCAL_BASE_URL=f"http://127.0.0.1:{api_port}",
        LABCAL_COOKIE_SECURE="0",
        LABCAL_ADMIN_PASSWORD=PASSWORD,
    )
    return env


def _start_cloud(d: Deployment, api_port: int, mqtt_port: int, smtp_port: int) -> None:
    """The roles as the deploy files run them (migrate first, then the long-running ones)."""
    mosquitto(d, mqtt_port)
    d.run_cloud("migrate")
    d.cloud("api", "portal-serve", "--host", "127.0.0.1", "--port", str(api_port))
    wait_until(lambda: _ready(api_port), 90, "the API's /readyz")
    d.cloud("ingest", "ingest", "--client-id", "e2e-ingest-1").wait_text("subscribed", 90)
    pipeline = d.cloud("pipeline", "pipeline", "run", "--due-every", "1", "--idle-due-every", "2")
    pipeline.wait_text(r"^pipeline: ready", 90)
    smtp = ["--smtp-host", "127.0.0.1", "--smtp-port", str(smtp_port), "--interval", "0.5"]
    d.cloud("scheduler", "scheduler", "run", *smtp)


def _ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _login(client: httpx.Client, email: str) -> str:
    client.cookies.clear()
    session = client.post("/api/v1/session", json={"email": email, "password": PASSWORD})
    assert session.status_code == 200, session.text
    return str(session.json()["csrf_token"])


def _seed(d: Deployment, client: httpx.Client) -> tuple[str, str, dict[str, str]]:
    """Provider admin, technician, the lab's tenant, admin, site, both pipettes, the station."""
    d.run_cloud("portal-admin", "--email", "admin@provider.example")
    csrf = _login(client, "admin@provider.example")
    headers = {"X-CSRF-Token": csrf}
    technician = {"name": "Tess Tech", "weekdays": [0, 1, 2, 3, 4, 5, 6], "daily_slots": 4}
    assert client.post("/api/v1/technicians", headers=headers, json=technician).status_code == 201
    created = client.post(
        "/api/v1/tenants",
        headers=headers,
        json={"name": "E2E Lab", "admin_email": LAB_ADMIN, "admin_name": "QA",
              "admin_password": PASSWORD},
    )  # fmt: skip
    assert created.status_code == 201, created.text
    tenant = str(created.json()["id"])
    headers = {"X-CSRF-Token": _login(client, LAB_ADMIN)}
    prefs = {"channels": ["email"], "time_zone": "UTC"}  # no quiet hours
    assert client.put("/api/v1/me/reminder-preferences", headers=headers, json=prefs).is_success
    site = client.post("/api/v1/sites", headers=headers, json={"name": "Bench hall"})
    assert site.status_code == 201, site.text
    devices = {}
    for p in (CALIBRATED, QUICK):
        body = {"site_id": site.json()["id"], "serial": p.serial, "make": p.make,
                "model": p.model, "nominal_volume_ul": p.nominal_ul}  # fmt: skip
        device = client.post("/api/v1/devices", headers=headers, json=body)
        assert device.status_code == 201, device.text
        devices[p.serial] = str(device.json()["id"])
    d.run_cloud("station", "add", "--tenant", tenant, "--station", BALANCE_STATION.id)
    # the provider's technician recorded QUICK's last calibration 336 days ago (the API path)
    headers = {"X-CSRF-Token": _login(client, "admin@provider.example")}
    ended = datetime.now(UTC) - timedelta(days=336)
    body = {"device_id": devices[QUICK.serial], "run": _api_run(ended).model_dump(mode="json"),
            "balance_traceability": "balance B-7, certificate 2025-001",
            # the balance within its own calibration then: the calibration is conforming
            "balance_valid_until": (ended + timedelta(days=30)).isoformat()}  # fmt: skip
    recorded = client.post("/api/v1/calibrations", headers=headers, json=body)
    assert recorded.status_code == 201, recorded.text
    return tenant, str(site.json()["id"]), devices


def _api_run(ended: datetime) -> GravimetricRun:
    spread = (-0.1, 0.05, 0.0, 0.1, -0.05, 0.02, -0.02, 0.08, -0.08, 0.0)
    volumes = [
        TestVolume(volume_ul=v, masses_mg=[(v + 0.1 * d) / 1.002854 for d in spread])
        for v in (100.0, 50.0, 10.0)
    ]
    return GravimetricRun(
        run_id=uuid.uuid4(),
        mode=RunMode.CALIBRATION,
        pipette=DeviceRef(type=DeviceType.PIPETTE, make=QUICK.make, model=QUICK.model,
                          serial=QUICK.serial),
        nominal_volume_ul=100.0,
        balance=DeviceRef(type=DeviceType.BALANCE, make="Mettler", model="XPR", serial="B-7"),
        balance_readability_mg=0.001,
        environment=[EnvironmentSample(air_temp_c=20.0, water_temp_c=20.0, pressure_kpa=101.3,
                                       humidity_pct=55)] * 2,  # at the start and the end
        test_volumes=volumes,
        operator="Tess Tech",
        started_at=ended - timedelta(minutes=40),
        ended_at=ended,
    )  # fmt: skip


def _devices(client: httpx.Client) -> dict[str, dict[str, Any]]:
    listed = client.get("/api/v1/devices", params={"limit": 100})
    assert listed.status_code == 200, listed.text
    return {x["serial"]: x for x in listed.json()}


def _calibrations(client: httpx.Client, device_id: str) -> list[dict[str, Any]]:
    found = client.get(f"/api/v1/devices/{device_id}/calibrations")
    assert found.status_code == 200, found.text
    return list(found.json())


def _run_station(d: Deployment, root: Path, tenant: str, mqtt_port: int) -> None:
    """The simulated balance station, a scripted calibration, a scripted quick check, then the
    station's agent (which reports the pipettes' counters)."""
    paths = DemoPaths(root)
    station = BALANCE_STATION
    paths.station_file(station).write_text(station_toml(paths, station, seed=11))
    sim = d.start("sim", [str(BIN / "labcal-sim"), "station", "--config",
                          str(paths.station_file(station))])  # fmt: skip
    wait_until(lambda: len(re.findall(r"^(balance|pipette|sensor)\t", sim.text(), re.M)) == 4,
               30, "the simulated devices")  # fmt: skip
    edge = str(BIN / "labcal-edge")
    config = paths.edge_file(station)
    config.write_text(edge_toml(paths, station, tenant, mqtt_port, mqtt_username=station.id))
    quick = paths.edge_file(station, "-quick")
    quick.write_text(
        edge_toml(paths, station, tenant, mqtt_port, pipettes=(QUICK,), mqtt_username=station.id)
    )
    paths.script.write_text(gravimetric_script((1000.0, 500.0, 100.0)))
    quick_script = root / "quick-script.toml"
    quick_script.write_text(gravimetric_script(()))
    for name, argv in (
        ("calibration", [edge, "gravimetric", "--config", str(config), "--script",
                         str(paths.script)]),
        ("quick-check", [edge, "gravimetric", "--quick", "--config", str(quick), "--script",
                         str(quick_script)]),
    ):  # fmt: skip
        run = d.start(name, argv)
        code = run.proc.wait(300)
        assert code in (0, 1), f"{name} failed ({code}):\n{run.text()[-4000:]}"
    d.start("edge", [edge, "run", "--config", str(config)])


def _mails_about(mail: Recorder, serial: str) -> list[EmailMessage]:
    return [m for m in mail.to(LAB_ADMIN) if serial in _text(m)]


def _text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain", "html"))
    return str(body.get_content()) if body is not None else ""


def _book_through(client: httpx.Client, link: str, device_id: str) -> str:
    form = client.get(link)
    assert form.status_code == 200, form.text
    assert device_id in form.text
    fields = {
        name: re.search(rf'name="{name}" value="([^"]+)"', form.text)
        for name in ("csrf_token", "site_id", "day")
    }
    values = {k: m.group(1) for k, m in fields.items() if m is not None}
    assert set(values) == set(fields), form.text
    booked = client.post(
        "/bookings", data={**values, "device_ids": device_id}, follow_redirects=False
    )
    assert booked.status_code == 303, booked.text
    return booked.headers["location"].rsplit("/", 1)[-1]


def _steps(url: str, device_id: str) -> list[tuple[str, str | None]]:
    db = connect(url, pool_size=1)
    try:
        rows = db.query(
            "SELECT status, cancel_reason FROM reminder_step WHERE subject_key = ?", (device_id,)
        )
    finally:
        db.close()
    return [(str(s), None if r is None else str(r)) for s, r in rows]


def test_a_station_run_becomes_a_certificate_and_a_reminder_a_booking(
    tmp_path: Path, database_url: str, mail: tuple[Recorder, int]
) -> None:
    recorder, smtp_port = mail
    api_port, mqtt_port = free_port(), free_port()
    base = f"http://127.0.0.1:{api_port}"
    d = Deployment(tmp_path, _env(tmp_path, database_url, api_port, mqtt_port))
    try:
        _start_cloud(d, api_port, mqtt_port, smtp_port)
        with httpx.Client(base_url=base, timeout=30) as client:
            tenant, _, ids = _seed(d, client)
            # the pipeline computes every registered device: never calibrated = due now
            _login(client, LAB_ADMIN)
            states = {CALIBRATED.serial: "due", QUICK.serial: "due_soon"}
            wait_until(lambda: {k: v["due_state"] for k, v in _devices(client).items()} == states,
                       60, "the engine's due state of both devices")  # fmt: skip
            [earlier] = _calibrations(client, ids[QUICK.serial])

            _run_station(d, tmp_path, tenant, mqtt_port)
            pipeline = next(p for p in d.processes if p.name == "pipeline")
            signed = pipeline.wait_text(
                rf"^pipeline: certificate (LC-\S+) signed for LabCal LP-1000 {CALIBRATED.serial}"
                r" \(Conforming\)", 120
            )  # fmt: skip
            [record] = _calibrations(client, ids[CALIBRATED.serial])
            assert record["number"] == signed.group(1)
            page = client.get(f"/devices/{ids[CALIBRATED.serial]}")
            verify = urlsplit(record["verify_url"]).path
            assert f"/certificates/{record['id']}.pdf" in page.text
            assert verify in page.text  # the device page links the verification
            assert client.get(verify).status_code == 200
            pdf = client.get(f"/api/v1/calibrations/{record['id']}/certificate.pdf")
            assert pdf.content.startswith(b"%PDF")
            wait_until(lambda: _devices(client)[CALIBRATED.serial]["due_state"] == "ok", 60,
                       "the calibrated pipette's due state ok")  # fmt: skip

            # the quick check: usage arrives, no certificate
            wait_until(lambda: _devices(client)[QUICK.serial]["usage_cycles"] > 0, 120,
                       "the quick-checked pipette's usage")  # fmt: skip
            assert _calibrations(client, ids[QUICK.serial]) == [earlier]  # no new certificate
            assert _devices(client)[QUICK.serial]["due_state"] == "due_soon"

            # its reminder e-mail, the booking link, the booking stops the sequence
            wait_until(lambda: bool(_mails_about(recorder, QUICK.serial)), 120,
                       f"a reminder e-mail about {QUICK.serial}")  # fmt: skip
            link = re.search(rf"{re.escape(base)}/book\?token=[\w.\-%=]+", _text(
                _mails_about(recorder, QUICK.serial)[0]))  # fmt: skip
            assert link is not None, _text(_mails_about(recorder, QUICK.serial)[0])
            booking = _book_through(client, link.group(0), ids[QUICK.serial])
            steps = _steps(database_url, ids[QUICK.serial])
            assert ("pending", None) not in steps
            assert any(s == "cancelled" and (r or "").startswith("booked") for s, r in steps)
            mails_before = len(_mails_about(recorder, QUICK.serial))
            usage_before = _devices(client)[QUICK.serial]["usage_cycles"]

        codes = d.stop_all()
        assert {k: codes[k] for k in ("api", "ingest", "pipeline", "scheduler")} == {
            "api": 0, "ingest": 0, "pipeline": 0, "scheduler": 0
        }  # fmt: skip

        # everything again, on the same data
        _start_cloud(d, api_port, mqtt_port, smtp_port)
        with httpx.Client(base_url=base, timeout=30) as client:
            _login(client, LAB_ADMIN)
            assert _calibrations(client, ids[CALIBRATED.serial]) == [record]
            devices = _devices(client)
            assert devices[CALIBRATED.serial]["due_state"] == "ok"
            assert devices[QUICK.serial]["usage_cycles"] == usage_before
            bookings = client.get("/api/v1/bookings")
            assert booking in {b["id"] for b in bookings.json()}
            time.sleep(5)  # several pipeline and scheduler passes
            assert len(_mails_about(recorder, QUICK.serial)) == mails_before
            assert ("pending", None) not in _steps(database_url, ids[QUICK.serial])
    finally:
        d.stop_all()
