"""The publisher against brokers that refuse: ACL (dead letters), passwords, TLS with client
certificates — private Mosquitto instances on free ports."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from labcal_edge.config import MqttConfig, TlsConfig
from labcal_edge.emitter import Emitter
from labcal_edge.messages import StationIdentity
from labcal_edge.ntp import FixedProbe
from labcal_edge.outbox import Outbox
from labcal_edge.publisher import Publisher
from labcal_shared.contracts import DeviceRef, DeviceType, UsageReport

from .broker import PrivateBroker, free_port
from .subscriber import Collector
from .test_publisher import readings, running

PIPETTE = DeviceRef(type=DeviceType.PIPETTE, make="LabCal", model="LP-1000", serial="P1")


def setup(tmp: Path, tenant: str) -> tuple[Outbox, Emitter]:
    outbox = Outbox(tmp / "o.sqlite3")
    return outbox, Emitter(StationIdentity(tenant, "st1"), outbox, FixedProbe(True))


def fast(**kw: object) -> MqttConfig:
    return MqttConfig(reconnect_base_s=0.1, reconnect_cap_s=0.5, **kw)  # type: ignore[arg-type]


def test_refused_publish_becomes_a_dead_letter_not_a_loss(tmp_path: Path, tenant_id: str) -> None:
    acl = tmp_path / "acl"
    acl.write_text("topic read #\ntopic write labcal/v1/+/+/reading\n")
    broker = PrivateBroker(tmp_path / "b", f"acl_file {acl}\n")
    broker.start()
    alerts: list[str] = []
    outbox = Outbox(tmp_path / "o.sqlite3", on_alert=alerts.append)
    emitter = Emitter(StationIdentity(tenant_id, "st1"), outbox, FixedProbe(True))
    collector = Collector(broker.url, tenant_id, kind="reading").start()
    try:
        ok_before = readings(emitter, 5)
        refused = emitter.emit(UsageReport(cycles_total=1, cycles_since_service=1), device=PIPETTE)
        ok_after = readings(emitter, 5, start=5)
        with running(Publisher(fast(port=broker.port), "edge-acl", outbox)):
            want = set(ok_before + ok_after)
            got = collector.wait_for(lambda m: {str(e.message_id) for e in m} >= want)
            collector.wait_for(lambda m: outbox.depth == 0)
        assert {str(e.message_id) for e in got} == set(ok_before + ok_after)
        assert outbox.depth == 0
        dead = outbox.dead_letters()
        assert [(seq, mid) for seq, mid, _ in dead] == [(refused.seq, str(refused.message_id))]
        assert "authori" in dead[0][2].lower()
        assert any("dead letter" in a for a in alerts)
    finally:
        collector.stop()
        broker.stop()


def test_password_authentication(tmp_path: Path, tenant_id: str) -> None:
    passwd = tmp_path / "passwd"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(passwd), "st1", "s3cret"], check=True)
    auth_port = free_port()
    broker = PrivateBroker(
        tmp_path / "b",
        f"listener {auth_port} 127.0.0.1\nallow_anonymous false\npassword_file {passwd}\n",
        head="per_listener_settings true\n",
    )
    broker.start()
    outbox, emitter = setup(tmp_path, tenant_id)
    collector = Collector(broker.url, tenant_id, kind="reading").start()
    try:
        sent = readings(emitter, 5)
        wrong = Publisher(fast(port=auth_port, username="st1", password="nope"), "e1", outbox)
        with running(wrong):
            assert not wrong.connected.wait(1.5)  # refused, retried with backoff
        assert outbox.depth == 5  # nothing lost meanwhile
        pw = tmp_path / "pw"
        pw.write_text("s3cret\n")
        right = Publisher(fast(port=auth_port, username="st1", password_file=pw), "e2", outbox)
        with running(right):
            got = collector.wait_for(lambda m: len(m) >= 5)
        assert {str(e.message_id) for e in got} == set(sent)
    finally:
        collector.stop()
        broker.stop()


def openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


@pytest.fixture
def pki(tmp_path: Path) -> Path:
    d = tmp_path / "pki"
    d.mkdir()
    openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=test-ca",
        "-keyout",
        str(d / "ca.key"),
        "-out",
        str(d / "ca.crt"),
    )
    for name, cn in (("server", "127.0.0.1"), ("client", "st1")):
        openssl(
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            f"/CN={cn}",
            "-keyout",
            str(d / f"{name}.key"),
            "-out",
            str(d / f"{name}.csr"),
        )
        ext = d / f"{name}.ext"
        ext.write_text("subjectAltName=IP:127.0.0.1\n" if name == "server" else "")
        openssl(
            "x509",
            "-req",
            "-in",
            str(d / f"{name}.csr"),
            "-CA",
            str(d / "ca.crt"),
            "-CAkey",
            str(d / "ca.key"),
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            str(ext),
            "-out",
            str(d / f"{name}.crt"),
        )
    return d


def test_tls_with_client_certificate(tmp_path: Path, tenant_id: str, pki: Path) -> None:
    tls_port = free_port()
    broker = PrivateBroker(
        tmp_path / "b",
        f"listener {tls_port} 127.0.0.1\ncafile {pki / 'ca.crt'}\ncertfile {pki / 'server.crt'}\n"
        f"keyfile {pki / 'server.key'}\nrequire_certificate true\nuse_identity_as_username true\n",
    )
    broker.start()
    outbox, emitter = setup(tmp_path, tenant_id)
    collector = Collector(broker.url, tenant_id, kind="reading").start()  # the plain listener
    try:
        sent = readings(emitter, 5)
        tls = TlsConfig(
            ca_file=pki / "ca.crt", cert_file=pki / "client.crt", key_file=pki / "client.key"
        )
        publisher = Publisher(fast(port=tls_port, tls=tls), "edge-tls", outbox)
        with running(publisher):
            got = collector.wait_for(lambda m: len(m) >= 5)
            collector.wait_for(lambda m: outbox.depth == 0)
        assert {str(e.message_id) for e in got} == set(sent)
        assert outbox.depth == 0
    finally:
        collector.stop()
        broker.stop()


def test_bad_tls_files_are_retried_not_fatal(
    tmp_path: Path, tenant_id: str, mqtt_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    outbox, emitter = setup(tmp_path, tenant_id)
    readings(emitter, 3)
    tls = TlsConfig(ca_file=tmp_path / "missing-ca.crt")
    port = urlsplit(mqtt_url).port or 1883
    publisher = Publisher(fast(port=port, tls=tls), "edge-badtls", outbox)
    stop = threading.Event()
    thread = threading.Thread(target=publisher.run, args=(stop,), daemon=True)
    thread.start()
    try:
        assert not publisher.connected.wait(1.0)
        assert thread.is_alive()  # retrying, not dead
    finally:
        stop.set()
        thread.join(5)
    assert outbox.depth == 3
    assert sum("cannot connect to the broker" in r.getMessage() for r in caplog.records) == 1
