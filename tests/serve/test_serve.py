"""``labcal-cloud serve`` end to end on SQLite (and PostgreSQL) with the roles every installation
has today (broker, api, ingest), as real OS processes with a real broker: the data (a provider,
a customer tenant with its admin, a registered device) and the secrets survive a restart on the
same data dir; a role killed with SIGKILL is restarted and reported; bad input (a file as data
dir, an unknown role, a port in use, a data dir another serve runs on) exits 2."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import socket
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from .processes import CLOUD, Running, alive, serve, serve_env, wait_until

pytestmark = pytest.mark.slow

ROLES = "broker,api,ingest"
PASSWORD = "serve-password-1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _secrets(data_dir: Path) -> dict[str, str]:
    folder = data_dir / "secrets"
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


def _pids(run: Running) -> set[int]:
    return {int(m) for m in re.findall(r"\(pid (\d+)", run.output())}


def _login(client: httpx.Client, email: str) -> str:
    session = client.post("/api/v1/session", json={"email": email, "password": PASSWORD})
    assert session.status_code == 200, session.text
    return str(session.json()["csrf_token"])


def _stop_cleanly(run: Running) -> None:
    pids = _pids(run)
    assert pids, run.output()
    assert run.stop(signal.SIGTERM) == 0, run.output()
    assert "SIGTERM: stopping every role" in run.output()
    assert "all roles stopped" in run.output()
    assert "did not stop" not in run.output()
    assert "stopped with exit code" not in run.output()  # each role stopped cleanly on SIGTERM
    wait_until(lambda: not any(alive(p) for p in pids), 30, "every role gone")


@pytest.mark.parametrize(
    ("backend", "broker"),
    [
        ("sqlite", "mosquitto"),
        ("sqlite", "embedded"),
        pytest.param("postgresql", "mosquitto", marks=pytest.mark.postgres),
    ],
)
def test_data_and_secrets_survive_a_restart_on_the_same_data_dir(
    tmp_path: Path, backend: str, broker: str, request: pytest.FixtureRequest
) -> None:
    data_dir = tmp_path / "labcal"  # missing: serve makes it
    database = f"sqlite:///{data_dir / 'labcal.sqlite3'}"
    port = _free_port()
    args = ["--data-dir", str(data_dir), "--roles", ROLES, "--port", str(port)]
    args += ["--broker", broker, "--broker-port", "0"]
    if backend == "postgresql":
        database = str(request.getfixturevalue("fresh_database_url"))
        args += ["--database-url", database]
    with serve(*args) as run:
        url = run.wait_line(r"Portal:\s+(http://\S+)/login", 180).group(1)
        assert url == f"http://127.0.0.1:{port}"
        for role in ("broker", "api", "ingest"):
            run.wait_line(rf"^\[\s*[\d.]+s\] {role}: ready \(pid \d+", 5)
        assert "secrets made in" in run.output()
        assert (data_dir / "labcal.sqlite3").exists() == (backend == "sqlite")
        assert re.search(r"database: ready \((\d+) migrations applied\)", run.output())
        with httpx.Client(base_url=url, timeout=30) as client:
            ready = client.get("/readyz")
            assert ready.status_code == 200, ready.text
            env = serve_env()
            env.update(LABCAL_DATABASE_URL=database, LABCAL_ADMIN_PASSWORD=PASSWORD)
            made = subprocess.run(
                [CLOUD, "portal-admin", "--email", "admin@provider.example"],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert made.returncode == 0, made.stdout + made.stderr
            csrf = _login(client, "admin@provider.example")
            tenant = client.post(
                "/api/v1/tenants",
                headers={"X-CSRF-Token": csrf},
                json={
                    "name": "Kept Lab",
                    "admin_email": "qa@kept-lab.example",
                    "admin_name": "QA",
                    "admin_password": PASSWORD,
                },
            )
            assert tenant.status_code == 201, tenant.text
            client.cookies.clear()
            csrf = _login(client, "qa@kept-lab.example")
            site = client.post("/api/v1/sites", headers={"X-CSRF-Token": csrf}, json={"name": "A"})
            assert site.status_code == 201, site.text
            device = client.post(
                "/api/v1/devices",
                headers={"X-CSRF-Token": csrf},
                json={
                    "site_id": site.json()["id"],
                    "serial": "KEPT-0001",
                    "make": "Acme",
                    "model": "P1000",
                    "nominal_volume_ul": 1000,
                },
            )
            assert device.status_code == 201, device.text
        secrets = _secrets(data_dir)
        assert set(secrets) == {"link-secret", "signing-key.pem", "signing-cert.pem"}
        modes = {p.name: p.stat().st_mode & 0o777 for p in (data_dir / "secrets").iterdir()}
        assert set(modes.values()) == {0o600}
        _stop_cleanly(run)

    with serve(*args) as again:
        url = again.wait_line(r"Portal:\s+(http://\S+)/login", 180).group(1)
        assert "database: ready (0 migrations applied)" in again.output()
        assert "secrets made" not in again.output()
        with httpx.Client(base_url=url, timeout=30) as client:
            _login(client, "qa@kept-lab.example")  # the user created through the API
            listed = client.get("/api/v1/devices")
            assert listed.status_code == 200, listed.text
            devices: list[dict[str, Any]] = listed.json()
            assert [d["serial"] for d in devices] == ["KEPT-0001"]
        _stop_cleanly(again)
    assert _secrets(data_dir) == secrets  # the same link secret and signing pair
    assert (data_dir / "logs" / "api.log").exists()


def test_a_killed_role_is_restarted_and_reported(tmp_path: Path) -> None:
    data_dir = tmp_path / "labcal"
    args = ["--data-dir", str(data_dir), "--roles", ROLES, "--port", "0", "--broker-port", "0"]
    with serve(*args) as run:
        url = run.wait_line(r"Portal:\s+(http://\S+)/login", 180).group(1)
        first = int(run.wait_line(r"ingest: ready \(pid (\d+)\)", 5).group(1))
        second_serve = _bad([*args[:4], "--port", "0", "--broker-port", "0"])
        assert second_serve.returncode == 2, second_serve.stdout + second_serve.stderr
        assert f"data dir {data_dir} is in use by another serve (pid {run.proc.pid})" in (
            second_serve.stderr
        )
        mark = len(run.lines)
        os.kill(first, signal.SIGKILL)
        crashed = run.wait_line(
            r"ingest: exited with code -9 \(killed by SIGKILL\) \(log: (\S+)\); "
            r"restarting in 1 s \(restart 1\)",
            60,
            after=mark,
        )
        assert crashed.group(1) == str(data_dir / "logs" / "ingest.log")
        second = int(run.wait_line(r"ingest: ready \(pid (\d+)\)", 120, after=mark).group(1))
        assert second != first
        assert alive(second)
        log = (data_dir / "logs" / "ingest.log").read_text()
        assert log.count("subscribed") >= 2  # both lives in one log
        # the API, killed too, comes back on the same port
        api = int(re.findall(r"api: ready \(pid (\d+);", run.output())[0])
        mark = len(run.lines)
        os.kill(api, signal.SIGKILL)
        run.wait_line(r"api: exited with code -9 .*restarting in 1 s \(restart 1\)", 60, mark)
        run.wait_line(r"api: ready \(pid \d+;", 180, after=mark)
        assert httpx.get(f"{url}/readyz", timeout=30).status_code == 200
        _stop_cleanly(run)


def _bad(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLOUD, "serve", *args],
        env=serve_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_data_dir_that_is_a_file_is_refused_and_left_alone(tmp_path: Path) -> None:
    precious = tmp_path / "labcal"
    precious.write_text("years of work")
    done = _bad(["--data-dir", str(precious), "--roles", ROLES, "--port", "0"])
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"serve: data dir {precious} exists and is not a directory" in done.stderr
    assert precious.read_text() == "years of work"


def test_an_unknown_role_is_refused(tmp_path: Path) -> None:
    done = _bad(["--data-dir", str(tmp_path / "d"), "--roles", "api,webserver"])
    assert done.returncode == 2, done.stdout + done.stderr
    assert "serve: unknown role 'webserver' (roles: broker, api, ingest, pipeline, scheduler)" in (
        done.stderr
    )
    assert not (tmp_path / "d").exists()  # refused before anything was made


def test_a_port_in_use_is_refused_before_any_role_starts(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = _bad(["--data-dir", str(tmp_path / "d"), "--roles", ROLES, "--port", str(port)])
        assert done.returncode == 2, done.stdout + done.stderr
        assert f"serve: port {port} on 127.0.0.1 is in use (choose --port)" in done.stderr
        assert "starting" not in done.stdout
        args = ["--data-dir", str(tmp_path / "e"), "--roles", ROLES, "--port", "0"]
        broker = _bad([*args, "--broker-port", str(port)])
        assert broker.returncode == 2, broker.stdout + broker.stderr
        assert f"serve: MQTT port {port} on 127.0.0.1 is in use" in broker.stderr
