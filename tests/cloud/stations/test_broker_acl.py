"""deploy/mosquitto/mosquitto.conf on a private Mosquitto, with the password and ACL files that
``labcal-cloud station`` writes: a station publishes over TLS under its own prefix only."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import threading
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from labcal_cloud.cli import main

from .tenants import add_lab_tenant
from .tls_material import write_tls_material

DEPLOY_CONF = Path(__file__).parents[3] / "deploy" / "mosquitto" / "mosquitto.conf"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(list(args)) == 0
    return capsys.readouterr().out


class Broker:
    def __init__(self, tls_port: int, plain_port: int, ca: Path, db: str) -> None:
        self.tls_port, self.plain_port, self.ca, self.db = tls_port, plain_port, ca, db


@pytest.fixture
def broker(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Iterator[tuple[Broker, dict]]:
    if shutil.which("mosquitto") is None and not Path("/usr/sbin/mosquitto").exists():
        pytest.fail("the mosquitto binary is needed (apt-get install mosquitto)")
    db = f"sqlite:///{tmp_path / 'labcal.sqlite3'}"
    cli(capsys, "--database-url", db, "migrate")
    for lab in ("acme", "other"):
        add_lab_tenant(db, lab)
    passwords = {}
    for tenant, station in (("acme", "acme-01"), ("acme", "acme-02"), ("other", "other-01")):
        out = cli(
            capsys, "--database-url", db, "station", "add", "--tenant", tenant, "--station", station
        )
        snippet = out.split("# --- edge agent configuration (labcal-edge TOML) ---")[1]
        snippet = snippet.split("# --- Mosquitto password file line ---")[0]
        config = tomllib.loads(snippet)
        assert config["station"] == {"tenant": tenant, "id": station}
        passwords[station] = config["mqtt"]["password"]
    etc = tmp_path / "etc"
    cli(
        capsys,
        "--database-url",
        db,
        "station",
        "mosquitto-files",
        "--out-dir",
        str(etc),
        "--service-user",
        "ingest:ingest-secret",
    )
    passwords["ingest"] = "ingest-secret"
    write_tls_material(etc)
    tls_port, plain_port = free_port(), free_port()
    conf = DEPLOY_CONF.read_text()
    conf = conf.replace("/etc/mosquitto/labcal/", f"{etc}/")
    conf = conf.replace(
        "persistence_location /var/lib/mosquitto/", f"persistence_location {tmp_path}/"
    )
    conf = re.sub(r"^listener 8883$", f"listener {tls_port} 127.0.0.1", conf, flags=re.M)
    conf = re.sub(
        r"^listener 1883 127.0.0.1$", f"listener {plain_port} 127.0.0.1", conf, flags=re.M
    )
    if os.geteuid() == 0:
        conf += "\nuser root\n"
    (tmp_path / "mosquitto.conf").write_text(conf)
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    proc = subprocess.Popen(
        [binary, "-c", str(tmp_path / "mosquitto.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", plain_port), timeout=1).close()
            socket.create_connection(("127.0.0.1", tls_port), timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                _, err = proc.communicate()
                pytest.fail(f"private mosquitto did not start: {err}")
            time.sleep(0.05)
    yield Broker(tls_port, plain_port, etc / "ca.crt", db), passwords
    proc.terminate()
    proc.communicate(timeout=10)


def connect(port: int, user: str, password: str, ca: Path | None = None):
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=f"{user}-{port}", protocol=MQTTProtocolVersion.MQTTv5
    )
    client.username_pw_set(user, password)
    if ca is not None:
        client.tls_set(ca_certs=str(ca))
    result: dict[str, object] = {}
    done = threading.Event()

    def on_connect(c, u, f, rc, p):
        result["rc"] = rc
        done.set()

    client.on_connect = on_connect
    client.connect("127.0.0.1", port)
    client.loop_start()
    assert done.wait(10), "no CONNACK"
    return client, result["rc"]


def test_station_publishes_under_its_own_prefix_only(broker):
    b, pw = broker
    received: list[str] = []
    got_marker = threading.Event()
    sub, rc = connect(b.plain_port, "ingest", pw["ingest"])
    assert not rc.is_failure
    subscribed = threading.Event()
    sub.on_subscribe = lambda *a: subscribed.set()

    def on_message(c, u, msg):
        received.append(msg.topic)
        if msg.topic.endswith("/event"):
            got_marker.set()

    sub.on_message = on_message
    sub.subscribe("$share/ingest/labcal/v1/+/+/+", qos=1)  # as the ingest workers do
    assert subscribed.wait(10)

    station, rc = connect(b.tls_port, "acme-01", pw["acme-01"], ca=b.ca)
    assert not rc.is_failure
    for topic in (
        "labcal/v1/acme/acme-01/reading",  # own prefix: allowed
        "labcal/v1/acme/acme-02/reading",  # another station of the same tenant: denied
        "labcal/v1/other/acme-01/reading",  # another tenant: denied
        "labcal/v1/acme/acme-01/cmd",  # the cloud's command topic: denied for stations
        "labcal/v1/acme/acme-01/event",  # own prefix: allowed, and the marker
    ):
        station.publish(topic, b"{}", qos=1).wait_for_publish(10)
    assert got_marker.wait(10)
    assert received == ["labcal/v1/acme/acme-01/reading", "labcal/v1/acme/acme-01/event"]
    for c in (station, sub):
        c.disconnect()
        c.loop_stop()


def test_wrong_password_and_unknown_user_are_refused(broker):
    b, pw = broker
    client, rc = connect(b.tls_port, "acme-01", "not-the-password", ca=b.ca)
    assert rc.is_failure
    client.loop_stop()
    client, rc = connect(b.tls_port, "nobody", pw["acme-01"], ca=b.ca)
    assert rc.is_failure
    client.loop_stop()


def test_secure_path_station_over_tls_to_authenticated_ingest(broker):
    import uuid as _uuid
    from datetime import UTC, datetime

    from labcal_cloud.ingest.service import IngestWorker
    from labcal_cloud.settings import Settings
    from labcal_cloud.storage import open_store
    from labcal_shared.contracts import DeviceRef, Envelope, Reading, build_topic, encode

    b, pw = broker
    settings = Settings(
        database_url=b.db,
        mqtt_url=f"mqtt://127.0.0.1:{b.plain_port}",
        mqtt_username="ingest",
        mqtt_password=pw["ingest"],
        ingest_client_id="ingest-acl-test",
    )
    store = open_store(b.db)
    worker = IngestWorker(settings, store)
    worker.start()
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        station, rc = connect(b.tls_port, "acme-01", pw["acme-01"], ca=b.ca)
        assert not rc.is_failure
        env = Envelope(
            message_id=_uuid.uuid4(),
            tenant="acme",
            station="acme-01",
            seq=1,
            device=DeviceRef(type="balance", make="MT", model="XS205", serial="B1"),
            edge_time=datetime.now(UTC),
            clock="synced",
            payload=Reading(value=1.5, unit="g", stable=True),
        )
        station.publish(
            build_topic("acme", "acme-01", "reading"), encode(env), qos=1
        ).wait_for_publish(10)
        deadline = time.monotonic() + 20
        while store.count("readings", "acme") < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [r["value"] for r in store.readings("acme")] == [1.5]
        station.disconnect()
        station.loop_stop()
    finally:
        worker.stop()
        thread.join(10)
        worker.close()
        store.close()


def test_a_station_of_one_tenant_cannot_publish_into_or_read_another_tenants_topics(broker):
    """acme-01's credentials (tenant acme) against other-01's topics (tenant other): the broker
    drops every publish there, of every kind, and delivers none of other-01's messages to it."""
    b, pw = broker
    received: list[str] = []
    marker = threading.Event()
    sub, rc = connect(b.plain_port, "ingest", pw["ingest"])
    assert not rc.is_failure
    subscribed = threading.Event()
    sub.on_subscribe = lambda *a: subscribed.set()

    def on_message(c, u, msg):
        received.append(f"{msg.topic} {msg.payload.decode()}")
        if msg.payload == b"marker":
            marker.set()

    sub.on_message = on_message
    sub.subscribe("$share/ingest/labcal/v1/+/+/+", qos=1)
    assert subscribed.wait(10)

    intruder, rc = connect(b.tls_port, "acme-01", pw["acme-01"], ca=b.ca)
    assert not rc.is_failure
    snooped: list[str] = []
    intruder_subscribed = threading.Event()
    intruder.on_subscribe = lambda *a: intruder_subscribed.set()
    intruder.on_message = lambda c, u, msg: snooped.append(msg.topic)
    intruder.subscribe("labcal/v1/other/#", qos=1)
    assert intruder_subscribed.wait(10)
    for kind in ("usage", "reading", "run", "event", "status", "cmd"):
        intruder.publish(f"labcal/v1/other/other-01/{kind}", b"forged", qos=1).wait_for_publish(10)

    victim, rc = connect(b.tls_port, "other-01", pw["other-01"], ca=b.ca)
    assert not rc.is_failure
    victim.publish("labcal/v1/other/other-01/reading", b"marker", qos=1).wait_for_publish(10)
    assert marker.wait(10)  # the victim's own message went through, after the forged ones
    time.sleep(0.5)  # give a wrongly delivered copy time to reach the intruder
    assert received == ["labcal/v1/other/other-01/reading marker"]
    assert snooped == []
    for c in (intruder, victim, sub):
        c.disconnect()
        c.loop_stop()


def test_ingest_sends_receipts_to_a_station_which_reads_only_its_own(broker):
    """Storage receipts: the ingest service user writes ``…/cmd``; a station reads its own."""
    b, pw = broker
    ingest, rc = connect(b.plain_port, "ingest", pw["ingest"])
    assert not rc.is_failure
    station, rc = connect(b.tls_port, "acme-01", pw["acme-01"], ca=b.ca)
    assert not rc.is_failure
    got: list[str] = []
    own = threading.Event()
    subscribed = threading.Event()
    station.on_subscribe = lambda *a: subscribed.set()

    def on_message(c, u, msg):
        got.append(f"{msg.topic} {msg.payload.decode()}")
        if msg.payload == b"own":
            own.set()

    station.on_message = on_message
    station.subscribe(
        [("labcal/v1/acme/acme-02/cmd", 1), ("labcal/v1/acme/acme-01/cmd", 1)]
    )  # another station's receipts are refused: not delivered
    assert subscribed.wait(10)
    ingest.publish("labcal/v1/acme/acme-02/cmd", b"other", qos=1).wait_for_publish(10)
    ingest.publish("labcal/v1/acme/acme-01/cmd", b"own", qos=1).wait_for_publish(10)
    assert own.wait(10)
    time.sleep(0.5)
    assert got == ["labcal/v1/acme/acme-01/cmd own"]
    for c in (station, ingest):
        c.disconnect()
        c.loop_stop()
