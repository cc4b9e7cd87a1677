"""``labcal-cloud serve`` with every role, on SQLite, end to end with a real SMTP server: runs
published over MQTT become a signed certificate (the pipeline's console line names the device by
serial) and, for a device calibrated 336 days ago, a reminder e-mail with a booking link (the
scheduler); everything is still there after a restart on the same data dir.

Skipped until this installation has the ``labcal-cloud pipeline`` command."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from labcal_shared.contracts import (
    ClockQuality,
    DeviceRef,
    DeviceType,
    Envelope,
    EnvironmentSample,
    GravimetricRun,
    RunMode,
    TestVolume,
)
from labcal_shared.contracts.codec import encode
from labcal_shared.contracts.topics import build_topic

from .processes import CLOUD, Running, has_command, serve, serve_env, wait_until


def _has_pipeline_command() -> bool:
    return has_command("pipeline")


pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not _has_pipeline_command(), reason="needs the 'labcal-cloud pipeline' command"
    ),
]

PASSWORD = "serve-password-1"
LAB_ADMIN = "qa@serve-lab.example"
STATION = "st-serve-1"
Z_20C = 1.002854  # µL/mg at 20 °C
SPREAD = (-0.1, 0.05, 0.0, 0.1, -0.05, 0.02, -0.02, 0.08, -0.08, 0.0)


class Recorder:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            message = message_from_bytes(envelope.content, policy=policy.default)
            assert isinstance(message, EmailMessage)
            self.messages.append(message)
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if address in str(m["To"])]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def smtp_server() -> Iterator[tuple[Recorder, int]]:
    from aiosmtpd.controller import Controller

    recorder, port = Recorder(), _free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield recorder, port
    finally:
        controller.stop()


def _run(serial: str, ended_at: datetime) -> GravimetricRun:
    pipette = DeviceRef(type=DeviceType.PIPETTE, make="Acme", model="P100", serial=serial)
    volumes = [
        TestVolume(
            volume_ul=v,
            masses_mg=[(v + 0.2 * d) / Z_20C for d in SPREAD],
            evaporation_per_cycle_mg=0.0,
        )
        for v in (100.0, 50.0, 10.0)
    ]
    return GravimetricRun(
        run_id=uuid.uuid4(),
        mode=RunMode.CALIBRATION,
        phase="as_left",
        pipette=pipette,
        nominal_volume_ul=100.0,
        balance=DeviceRef(type=DeviceType.BALANCE, make="Mettler", model="XPR", serial="B-7"),
        balance_readability_mg=0.001,
        environment=[  # at the start and at the end (ISO 8655-6:2022), else no statement
            EnvironmentSample(
                air_temp_c=20.0, water_temp_c=20.0, pressure_kpa=101.3, humidity_pct=55
            )
        ]
        * 2,
        test_volumes=volumes,
        operator="ana",
        started_at=ended_at - timedelta(minutes=40),
        ended_at=ended_at,
        mpe_edition="ISO 8655-2:2002",
    )


def _publish(port: int, protocol: str, tenant: str, runs: list[GravimetricRun]) -> None:
    version = mqtt.MQTTv5 if protocol == "5" else mqtt.MQTTv311
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=STATION, protocol=version)
    client.username_pw_set(STATION)
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        for seq, run in enumerate(runs, start=1):
            env = Envelope(
                message_id=uuid.uuid4(),
                tenant=tenant,
                station=STATION,
                seq=seq,
                device=run.pipette,
                device_time=run.ended_at,
                edge_time=run.ended_at,
                clock=ClockQuality.SYNCED,
                payload=run,
            )
            info = client.publish(build_topic(tenant, STATION, "run"), encode(env), qos=1)
            info.wait_for_publish(30)
            assert info.is_published()
    finally:
        client.disconnect()
        client.loop_stop()


def _cloud(data_dir: Path, *argv: str) -> str:
    env = serve_env()
    env.update(
        LABCAL_DATABASE_URL=f"sqlite:///{data_dir / 'labcal.sqlite3'}",
        LABCAL_ADMIN_PASSWORD=PASSWORD,
    )
    done = subprocess.run(
        [CLOUD, *argv], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _login(client: httpx.Client, email: str) -> str:
    client.cookies.clear()
    session = client.post("/api/v1/session", json={"email": email, "password": PASSWORD})
    assert session.status_code == 200, session.text
    return str(session.json()["csrf_token"])


def _devices(client: httpx.Client) -> dict[str, dict[str, Any]]:
    listed = client.get("/api/v1/devices", params={"limit": 1000})
    assert listed.status_code == 200, listed.text
    return {d["serial"]: d for d in listed.json()}


def _seed(client: httpx.Client, data_dir: Path) -> str:
    _cloud(data_dir, "portal-admin", "--email", "admin@provider.example")
    csrf = _login(client, "admin@provider.example")
    tenant = client.post(
        "/api/v1/tenants",
        headers={"X-CSRF-Token": csrf},
        json={
            "name": "Serve Lab",
            "admin_email": LAB_ADMIN,
            "admin_name": "QA",
            "admin_password": PASSWORD,
        },
    )
    assert tenant.status_code == 201, tenant.text
    tenant_id = str(tenant.json()["id"])
    csrf = _login(client, LAB_ADMIN)
    prefs = client.put(
        "/api/v1/me/reminder-preferences",
        headers={"X-CSRF-Token": csrf},
        json={"channels": ["email"], "time_zone": "UTC"},
    )
    assert prefs.status_code == 200, prefs.text
    site = client.post("/api/v1/sites", headers={"X-CSRF-Token": csrf}, json={"name": "Lab 1"})
    assert site.status_code == 201, site.text
    for serial in ("RUN-0001", "DUE-0002"):
        device = client.post(
            "/api/v1/devices",
            headers={"X-CSRF-Token": csrf},
            json={
                "site_id": site.json()["id"],
                "serial": serial,
                "make": "Acme",
                "model": "P100",
                "nominal_volume_ul": 100,
            },
        )
        assert device.status_code == 201, device.text
    _cloud(data_dir, "station", "add", "--tenant", tenant_id, "--station", STATION)
    return tenant_id


def _certificates(client: httpx.Client, serial: str) -> list[dict[str, Any]]:
    device = _devices(client)[serial]
    found = client.get(f"/api/v1/devices/{device['id']}/calibrations")
    return list(found.json()) if found.status_code == 200 else []


def _stop(run: Running) -> None:
    assert run.stop(signal.SIGTERM) == 0, run.output()
    assert "all roles stopped" in run.output()
    assert "stopped with exit code" not in run.output()


def test_a_run_becomes_a_certificate_and_a_due_device_a_reminder_e_mail(tmp_path: Path) -> None:
    data_dir = tmp_path / "labcal"
    with smtp_server() as (mail, smtp_port):
        args = ["--data-dir", str(data_dir), "--port", "0", "--broker-port", "0"]
        args += ["--smtp-host", "127.0.0.1", "--smtp-port", str(smtp_port)]
        with serve(*args) as run:
            url = run.wait_line(r"Portal:\s+(http://\S+)/login", 240).group(1)
            for role in ("broker", "api", "ingest", "pipeline", "scheduler"):
                assert re.search(rf"\] {role}: ready \(pid \d+", run.output()), run.output()
            broker = run.wait_line(r"broker: starting .* on 127\.0\.0\.1:(\d+)", 5)
            protocol = "3.1.1" if "MQTT 3.1.1" in broker.group(0) else "5"
            with httpx.Client(base_url=url, timeout=30) as client:
                tenant = _seed(client, data_dir)
                now = datetime.now(UTC)
                runs = [_run("DUE-0002", now - timedelta(days=336)), _run("RUN-0001", now)]
                _publish(int(broker.group(1)), protocol, tenant, runs)
                signed = run.wait_line(r"pipeline: certificate (\S+) signed for .*RUN-0001", 180)
                _login(client, LAB_ADMIN)
                wait_until(lambda: bool(_certificates(client, "RUN-0001")), 60, "the record")
                record = _certificates(client, "RUN-0001")[0]
                pdf = client.get(f"/api/v1/calibrations/{record['id']}/certificate.pdf")
                assert pdf.status_code == 200
                assert pdf.content.startswith(b"%PDF")
                assert b"/ByteRange" in pdf.content  # a PAdES signature covers the document
                assert record["number"] == signed.group(1)  # the console names the record
                page = client.get(f"/devices/{record['device_id']}")
                assert page.status_code == 200
                verify = urlsplit(record["verify_url"]).path
                assert verify in page.text  # the device page links the verification
                assert client.get(verify).status_code == 200
                verified = client.post(
                    "/api/v1/verify",
                    content=pdf.content,
                    headers={"Content-Type": "application/pdf"},
                )
                assert verified.status_code == 200, verified.text
                assert verified.json()["valid"] is True
                wait_until(lambda: bool(mail.to(LAB_ADMIN)), 240, "a reminder e-mail")
                run.wait_line(r"scheduler: \d+ reminder\(s\) delivered", 30)
                body = mail.to(LAB_ADMIN)[0].get_body(preferencelist=("plain", "html"))
                assert body is not None
                text = str(body.get_content())
                assert "DUE-0002" in text
                link = re.search(rf"{re.escape(url)}/\S+", text)
                assert link is not None, text
                assert client.get(link.group(0)).status_code == 200  # the one-click booking
            _stop(run)
        with serve(*args) as again:
            url = again.wait_line(r"Portal:\s+(http://\S+)/login", 240).group(1)
            with httpx.Client(base_url=url, timeout=30) as client:
                _login(client, LAB_ADMIN)
                assert [c["id"] for c in _certificates(client, "RUN-0001")] == [record["id"]]
            _stop(again)
