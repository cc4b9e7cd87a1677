"""The compose stack's moving parts, run here without Docker: ``provision.sh`` (with
``make-dev-certs.sh`` and ``lab_tenant.py``) finds or creates the lab's tenant in the portal,
registers the station under the tenant id the portal generated, writes the station's edge
configuration with it and the broker's files; the real Mosquitto starts on
deploy/mosquitto/mosquitto.conf with them, the broker healthcheck command of compose.yaml passes,
and ``station/run-station.sh`` (labcal-sim + the real labcal-edge, with the shipped sim.toml and
the edge configuration provision wrote, paths rewritten) publishes over TLS under the portal's
tenant id with its own credentials and stops cleanly."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from .deploy_files import COMPOSE_DIR, DEPLOY, load_compose

VENV_BIN = Path(sys.executable).parent
INGEST_PASSWORD = "ingest-" + uuid.uuid4().hex


@dataclass
class Stack:
    tmp: Path
    env: dict[str, str]
    broker_dir: Path
    ca_dir: Path
    tenant: str  # the portal's id of the lab's tenant, read from the database
    lab_name: str
    station: str
    edge_config: Path
    emqx_tls: Path
    station_password_file: Path
    tls_port: int
    plain_port: int
    first_provision: str


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _provision(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(COMPOSE_DIR / "provision.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    mosquitto = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    assert Path(mosquitto).exists(), "the mosquitto binary is needed (apt-get install mosquitto)"
    tmp = tmp_path_factory.mktemp("stack")
    bin_dir = tmp / "bin"
    bin_dir.mkdir()
    (bin_dir / "labcal-make-dev-certs").symlink_to(COMPOSE_DIR / "make-dev-certs.sh")
    (bin_dir / "labcal-lab-tenant").symlink_to(COMPOSE_DIR / "lab_tenant.py")
    database = f"sqlite:///{tmp / 'labcal.sqlite3'}"
    migrate = subprocess.run(
        [sys.executable, "-m", "labcal_cloud.cli", "--database-url", database, "migrate"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert migrate.returncode == 0, migrate.stderr
    lab_name, station = f"Lab {uuid.uuid4().hex[:10]}", f"st-{uuid.uuid4().hex[:8]}"
    password_file = tmp / "station_password"
    password_file.write_text("station-" + uuid.uuid4().hex)
    broker_dir, ca_dir, data_dir = tmp / "broker", tmp / "ca", tmp / "broker-data"
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{VENV_BIN}:{os.environ['PATH']}",
        "LABCAL_DATABASE_URL": database,
        "LABCAL_INGEST_MQTT_PASSWORD": INGEST_PASSWORD,
        "LABCAL_LAB_NAME": lab_name,
        "LABCAL_STATION_ID": station,
        "LABCAL_MQTT_HOST": "localhost",
        "EDGE_TEMPLATE": str(COMPOSE_DIR / "station" / "edge.toml"),
        "EDGE_CONFIG": str(tmp / "station-etc" / "edge.toml"),
        "EMQX_TLS_DIR": str(tmp / "emqx-tls"),
        "EMQX_UID": str(os.getuid()),
        "STATION_PASSWORD_FILE": str(password_file),
        "BROKER_HOSTNAMES": "localhost",
        "BROKER_DIR": str(broker_dir),
        "BROKER_DATA_DIR": str(data_dir),
        "CA_DIR": str(ca_dir),
        "MOSQUITTO_UID": str(os.getuid()),
    }
    first = _provision(env)
    assert first.returncode == 0, first.stdout + first.stderr
    with sqlite3.connect(tmp / "labcal.sqlite3") as conn:
        rows = conn.execute(
            "SELECT id FROM portal_tenants WHERE name = ? AND kind = 'customer'", (lab_name,)
        ).fetchall()
    assert len(rows) == 1, f"provision made {len(rows)} tenants named {lab_name!r}"
    tenant = str(rows[0][0])

    tls_port, plain_port = _free_port(), _free_port()
    conf = (DEPLOY / "mosquitto" / "mosquitto.conf").read_text(encoding="utf-8")
    conf = conf.replace("/etc/mosquitto/labcal/", f"{broker_dir}/")
    conf = conf.replace("/var/lib/mosquitto/", f"{data_dir}/")
    conf = re.sub(r"^listener 8883$", f"listener {tls_port} 127.0.0.1", conf, flags=re.M)
    conf = re.sub(
        r"^listener 1883 127.0.0.1$", f"listener {plain_port} 127.0.0.1", conf, flags=re.M
    )
    if os.geteuid() == 0:
        conf += "\nuser root\n"
    (tmp / "mosquitto.conf").write_text(conf)
    proc = subprocess.Popen(
        [mosquitto, "-c", str(tmp / "mosquitto.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            for port in (plain_port, tls_port):
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"mosquitto did not start: {proc.communicate()[1]}")
            time.sleep(0.05)
    try:
        yield Stack(
            tmp,
            env,
            broker_dir,
            ca_dir,
            tenant,
            lab_name,
            station,
            tmp / "station-etc" / "edge.toml",
            tmp / "emqx-tls",
            password_file,
            tls_port,
            plain_port,
            first.stdout,
        )
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


def test_provision_writes_the_broker_files(stack: Stack) -> None:
    assert f"registered station {stack.tenant}/{stack.station}" in stack.first_provision
    for name in ("ca.crt", "server.crt", "server.key", "passwords", "acl"):
        assert (stack.broker_dir / name).is_file(), name
    for secret in ("server.key", "passwords"):
        assert (stack.broker_dir / secret).stat().st_mode & 0o777 == 0o600
    assert (stack.ca_dir / "ca.crt").read_bytes() == (stack.broker_dir / "ca.crt").read_bytes()
    acl = (stack.broker_dir / "acl").read_text()
    assert f"user {stack.station}\n" in acl
    assert f"topic write labcal/v1/{stack.tenant}/{stack.station}/reading" in acl
    users = [line.split(":")[0] for line in (stack.broker_dir / "passwords").read_text().split()]
    assert sorted(users) == sorted(["ingest", stack.station])


def test_provision_gives_the_station_the_portals_tenant_id(stack: Stack) -> None:
    from labcal_edge.config import load_config

    assert stack.tenant != stack.lab_name
    assert f'lab "{stack.lab_name}" is tenant {stack.tenant}' in stack.first_provision
    listed = subprocess.run(
        [str(VENV_BIN / "labcal-cloud"), "station", "list"],
        env=stack.env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert f"{stack.tenant}\t{stack.station}" in listed, "ingest knows the station's tenant"
    edge = load_config(stack.edge_config)
    assert (edge.station.tenant, edge.station.id) == (stack.tenant, stack.station)
    assert (edge.mqtt.username, edge.mqtt.client_id) == (stack.station, stack.station)
    assert edge.mqtt.host == "localhost"  # LABCAL_MQTT_HOST
    template = load_config(COMPOSE_DIR / "station" / "edge.toml")
    assert template.balance == edge.balance
    assert template.pipette == edge.pipette


def test_provision_copies_the_tls_files_for_emqx(stack: Stack) -> None:
    for name in ("ca.crt", "server.crt", "server.key"):
        copy = stack.emqx_tls / name
        assert copy.read_bytes() == (stack.broker_dir / name).read_bytes(), name
    assert (stack.emqx_tls / "server.key").stat().st_mode & 0o777 == 0o600


def test_provision_runs_again_without_changing_the_station(stack: Stack) -> None:
    ca_before = (stack.broker_dir / "ca.crt").read_bytes()
    edge_before = stack.edge_config.read_bytes()
    again = _provision(stack.env)
    assert again.returncode == 0, again.stderr
    assert "already registered" in again.stdout
    assert "already has ca.crt" in again.stdout
    assert f"found tenant {stack.tenant}" in again.stderr
    assert (stack.broker_dir / "ca.crt").read_bytes() == ca_before
    assert stack.edge_config.read_bytes() == edge_before


def test_provision_refuses_a_station_of_another_tenant(stack: Stack) -> None:
    other = {**stack.env, "LABCAL_LAB_NAME": stack.lab_name + " (other)"}
    done = _provision(other)
    assert done.returncode != 0
    assert f"station {stack.station} is registered for tenant {stack.tenant}" in done.stderr


def test_provision_refuses_a_missing_station_password(stack: Stack) -> None:
    env = {**stack.env, "STATION_PASSWORD_FILE": str(stack.tmp / "nope")}
    done = _provision(env)
    assert done.returncode != 0
    assert "no station password" in done.stderr


def _healthcheck(stack: Stack, password: str) -> subprocess.CompletedProcess[str]:
    """compose.yaml's broker healthcheck, with this broker's port."""
    test = load_compose()["services"]["mosquitto"]["healthcheck"]["test"]
    assert test[0] == "CMD-SHELL"
    command = test[1].replace("$$", "$").replace("-p 1883", f"-p {stack.plain_port}")
    return subprocess.run(
        ["sh", "-c", command],
        env={**os.environ, "LABCAL_INGEST_MQTT_PASSWORD": password},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_the_compose_broker_healthcheck_passes_and_can_fail(stack: Stack) -> None:
    assert shutil.which("mosquitto_sub"), "mosquitto_sub is needed (mosquitto-clients)"
    ok = _healthcheck(stack, INGEST_PASSWORD)
    assert ok.returncode == 0, ok.stderr
    assert _healthcheck(stack, "wrong-password").returncode != 0


def _station_files(stack: Stack) -> tuple[Path, Path, Path]:
    links = stack.tmp / "sim-links"
    sim = (COMPOSE_DIR / "station" / "sim.toml").read_text(encoding="utf-8")
    sim = sim.replace('link_dir = "/tmp/labcal-sim"', f'link_dir = "{links}"')
    edge = stack.edge_config.read_text(encoding="utf-8")  # as provision wrote it
    replacements = {
        '"/tmp/labcal-sim/': f'"{links}/',
        "port = 8883": f"port = {stack.tls_port}",
        '"/run/secrets/station_password"': f'"{stack.station_password_file}"',
        '"/etc/labcal/tls/ca.crt"': f'"{stack.ca_dir / "ca.crt"}"',
        '"/var/lib/labcal-edge"': f'"{stack.tmp / "edge-data"}"',
    }
    for old, new in replacements.items():
        assert old in edge, old
        edge = edge.replace(old, new)
    (stack.tmp / "sim.toml").write_text(sim)
    (stack.tmp / "edge.toml").write_text(edge)
    return stack.tmp / "sim.toml", stack.tmp / "edge.toml", links


def _children(pid: int) -> set[int]:
    out: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        text = (task / "children").read_text() if (task / "children").exists() else ""
        out |= {int(p) for p in text.split()}
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def test_the_simulated_station_publishes_over_tls_and_stops_cleanly(stack: Stack) -> None:
    sim, edge, links = _station_files(stack)
    received: list[str] = []
    got = threading.Event()
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id="ingest-probe", protocol=MQTTProtocolVersion.MQTTv5
    )
    client.username_pw_set("ingest", INGEST_PASSWORD)

    def on_message(_c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        received.append(message.topic)
        got.set()

    client.on_message = on_message
    client.connect("127.0.0.1", stack.plain_port)
    client.subscribe(f"labcal/v1/{stack.tenant}/{stack.station}/#", qos=1)
    client.loop_start()
    proc = subprocess.Popen(
        [str(COMPOSE_DIR / "station" / "run-station.sh")],
        env={**stack.env, "LABCAL_SIM_CONFIG": str(sim), "LABCAL_EDGE_CONFIG": str(edge)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert got.wait(60), f"no message from the station (script exit code {proc.poll()})"
        assert received[0].startswith(f"labcal/v1/{stack.tenant}/{stack.station}/")
        assert (links / "balance-B123456789").exists()
        children = _children(proc.pid)
        assert len(children) == 2, "labcal-sim and labcal-edge run under the script"
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, out + err
        assert [p for p in children if _alive(p)] == []
        assert (stack.tmp / "edge-data" / "outbox.sqlite3").is_file()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
        client.loop_stop()
        client.disconnect()


def test_run_station_refuses_a_bad_edge_config(stack: Stack) -> None:
    sim, edge, _ = _station_files(stack)
    broken = stack.tmp / "edge-broken.toml"
    broken.write_text(edge.read_text() + "\nnot_a_key = 1\n")
    done = subprocess.run(
        [str(COMPOSE_DIR / "station" / "run-station.sh")],
        env={**stack.env, "LABCAL_SIM_CONFIG": str(sim), "LABCAL_EDGE_CONFIG": str(broken)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "not_a_key" in done.stderr
