"""``./scripts/run`` (``demo up``: serve on a fresh data dir, seeded, with simulated stations) end
to end: the whole system comes up, a completed gravimetric run with its signed certificate, usage
and a reminder show through the HTTP API; SIGINT and SIGTERM stop every child process (and the
simulated ptys go away). Both brokers: the private Mosquitto (MQTT 5) and the embedded amqtt
(MQTT 3.1.1, what runs where no ``mosquitto`` binary is installed).

The certificate, the usage and the reminder come from serve's pipeline and scheduler roles: the
test of them is skipped until this installation has ``labcal-cloud pipeline``; the stations, the
ingest, the read API and the clean stop are tested with the roles every installation has."""

from __future__ import annotations

import re
import signal
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from .run_demo import CLOUD, alive, demo, processes_mentioning, wait_until

pytestmark = pytest.mark.slow

CALIBRATED = "LP1000-0101"  # the balance station's first pipette: scripted calibration
QUICK_CHECKED = "LP100-0102"  # its second pipette: scripted quick check, so it has usage


def _has_pipeline_command() -> bool:
    done = subprocess.run(
        [CLOUD, "pipeline", "--help"], capture_output=True, timeout=120, check=False
    )
    return done.returncode == 0


needs_pipeline = pytest.mark.skipif(
    not _has_pipeline_command(), reason="needs the 'labcal-cloud pipeline' command"
)
WITHOUT_PIPELINE = ("--roles", "broker,api,ingest")  # the roles every installation has


def _devices(client: httpx.Client) -> dict[str, dict[str, Any]]:
    response = client.get("/api/v1/devices", params={"limit": 1000})
    response.raise_for_status()
    return {d["serial"]: d for d in response.json()}


@needs_pipeline
@pytest.mark.parametrize(
    ("broker", "protocol"), [("mosquitto", "MQTT 5"), ("embedded", "MQTT 3.1.1")]
)
def test_run_brings_the_system_up_and_ctrl_c_stops_everything(
    tmp_path: Path, broker: str, protocol: str
) -> None:
    data_dir = tmp_path / "demo"
    with demo(data_dir, "--broker", broker) as run:
        started = run.wait_line(r"broker: starting (.*) on 127\.0\.0\.1:\d+", 420).group(1)
        assert ("amqtt" in started) == (broker == "embedded"), started
        run.wait_line(rf"ingest: starting one ingest worker \({re.escape(protocol)} ", 120)
        url = run.wait_line(r"Portal:\s+(http://\S+)/login", 420).group(1)
        login = run.wait_line(r"Login:\s+(\S+)\s+password: (\S+)", 10)
        token = run.wait_line(r"Read API: curl -H 'Authorization: Bearer (\S+)'", 10).group(1)
        with httpx.Client(base_url=url, timeout=30) as client:
            assert client.get("/healthz").json() == {"status": "ok"}
            ready = client.get("/readyz")
            assert ready.status_code == 200, ready.text
            session = client.post(
                "/api/v1/session", json={"email": login.group(1), "password": login.group(2)}
            )
            assert session.status_code == 200, session.text

            calibrations: list[dict[str, Any]] = []

            def calibrated() -> bool:
                device = _devices(client)[CALIBRATED]
                found = client.get(f"/api/v1/devices/{device['id']}/calibrations")
                calibrations[:] = found.json() if found.status_code == 200 else []
                return bool(calibrations)

            wait_until(calibrated, 300, f"a calibration record of {CALIBRATED}")
            # the pipeline's line passes through, naming the device by its serial
            run.wait_line(rf"pipeline: certificate \S+ signed for .*{CALIBRATED}", 60)
            record = calibrations[0]
            assert record["passed"] is True  # the simulated pipette is +0.4 %: within MPE
            pdf = client.get(f"/api/v1/calibrations/{record['id']}/certificate.pdf")
            assert pdf.status_code == 200
            assert pdf.content.startswith(b"%PDF")
            assert b"/ByteRange" in pdf.content  # a PAdES signature covers the document
            verified = client.post(
                "/api/v1/verify", content=pdf.content, headers={"Content-Type": "application/pdf"}
            )
            assert verified.status_code == 200, verified.text
            assert verified.json()["valid"] is True

            wait_until(
                lambda: _devices(client)[QUICK_CHECKED]["usage_cycles"] > 0,
                300,
                f"usage of {QUICK_CHECKED} reported by the edge agent",
            )
            inbox: list[dict[str, Any]] = []

            def reminded() -> bool:
                inbox[:] = client.get("/api/v1/inbox").json()
                return bool(inbox)

            wait_until(reminded, 300, "a reminder in the portal inbox")
            assert all(m["subject"] and m["body"] for m in inbox)

            runs = client.get("/v1/runs", headers={"Authorization": f"Bearer {token}"})
            assert runs.status_code == 200, runs.text
            assert CALIBRATED in runs.text  # the integrators' read API has the stored run
            assert QUICK_CHECKED in runs.text
            assert (
                client.get("/v1/runs", headers={"Authorization": "Bearer wrong"}).status_code == 401
            )

            metrics = client.get("/metrics").text
            stored = re.search(
                r'labcal_ingest_messages_stored_total\{kind="usage"\} (\d+)', metrics
            )
            assert stored is not None, metrics
            assert int(stored.group(1)) > 0
            sent = re.search(r'labcal_reminders_sent_total\{channel="inbox"\} (\d+)', metrics)
            assert sent is not None, metrics
            assert int(sent.group(1)) >= len(inbox)

        pids = run.child_pids()
        assert len(pids) >= 9  # broker, api, ingest, pipeline, scheduler, 2 sims, 2 agents
        assert [p for p in pids if not alive(p)] == []  # every long-running child still up
        code = run.stop(signal.SIGINT)
        assert code == 0, run.output()
    assert "all processes stopped" in run.output()
    assert "stopped with exit code" not in run.output()  # each stopped cleanly on SIGTERM
    assert "did not stop" not in run.output()
    wait_until(lambda: not any(alive(p) for p in pids), 30, "every child gone")
    wait_until(lambda: processes_mentioning(str(data_dir)) == [], 30, "no process left behind")
    links = [p for p in (data_dir / "dev").rglob("*") if p.is_symlink()]
    assert links == []  # every pty's symlink removed: the simulated devices closed their ptys


def test_the_stations_reach_the_cloud_and_sigint_stops_everything(tmp_path: Path) -> None:
    data_dir = tmp_path / "demo"
    with demo(data_dir, *WITHOUT_PIPELINE) as run:
        url = run.wait_line(r"Portal:\s+(http://\S+)/login", 420).group(1)
        login = run.wait_line(r"Login:\s+(\S+)\s+password: (\S+)", 10)
        token = run.wait_line(r"Read API: curl -H 'Authorization: Bearer (\S+)'", 10).group(1)
        run.wait_line(r"gravimetric-1: passed", 300)  # the scripted calibration, stored
        with httpx.Client(base_url=url, timeout=30) as client:
            assert client.get("/readyz").status_code == 200
            session = client.post(
                "/api/v1/session", json={"email": login.group(1), "password": login.group(2)}
            )
            assert session.status_code == 200, session.text
            assert CALIBRATED in _devices(client)  # seeded: the simulated pipettes
            auth = {"Authorization": f"Bearer {token}"}
            wait_until(
                lambda: CALIBRATED in client.get("/v1/runs", headers=auth).text,
                120,
                "the stored run in the read API",
            )
            metrics = client.get("/metrics").text
            stored = re.search(
                r'labcal_ingest_messages_stored_total\{kind="usage"\} (\d+)', metrics
            )
            assert stored is not None, metrics
            assert int(stored.group(1)) > 0
        run.wait_line(r"edge demo-bal-01: ready", 300)
        pids = run.child_pids()
        assert len(pids) >= 7  # broker, api, ingest, 2 sims, 2 edge agents
        assert [p for p in pids if not alive(p)] == []
        code = run.stop(signal.SIGINT)
        assert code == 0, run.output()
    assert "all processes stopped" in run.output()
    assert "stopped with exit code" not in run.output()
    assert "did not stop" not in run.output()
    wait_until(lambda: not any(alive(p) for p in pids), 30, "every child gone")
    wait_until(lambda: processes_mentioning(str(data_dir)) == [], 30, "no process left behind")
    assert [p for p in (data_dir / "dev").rglob("*") if p.is_symlink()] == []


def test_sigterm_during_startup_stops_what_was_started(tmp_path: Path) -> None:
    data_dir = tmp_path / "demo"
    with demo(data_dir, *WITHOUT_PIPELINE) as run:
        run.wait_line(r"sim demo-bal-01: ready", 420)
        pids = run.child_pids()
        assert len(pids) >= 4  # broker, api, ingest, a simulated station
        code = run.stop(signal.SIGTERM)
        assert code == 0, run.output()
    # (a child still importing when the signal comes may end by the signal itself: exit -15)
    assert "SIGTERM: stopping everything" in run.output()
    wait_until(lambda: not any(alive(p) for p in pids), 30, "every child gone")
    wait_until(lambda: processes_mentioning(str(data_dir)) == [], 30, "no process left behind")
