"""The ingest source on private Mosquitto instances: over TLS (``mqtts://`` with a CA file), and
through a broker restart in the middle of a backlog.

Over TLS a backlog of messages of many sizes arrives through the bulk read and the lean PUBLISH
path, each exactly once. A TLS socket hands out one record (at most 16 kB) per ``recv``, and a
message can span several records, so this is a different byte stream from the plain socket's."""

from __future__ import annotations

import getpass
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from labcal_cloud.ingest.mqtt_source import MqttSource, MqttSourceConfig


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def _pki(d: Path) -> Path:
    """A CA and a server certificate for 127.0.0.1; returns the directory."""
    d.mkdir()
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=ca",
             "-keyout", str(d / "ca.key"), "-out", str(d / "ca.crt"))  # fmt: skip
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
             "-keyout", str(d / "server.key"), "-out", str(d / "server.csr"))  # fmt: skip
    (d / "server.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    _openssl("x509", "-req", "-in", str(d / "server.csr"), "-CA", str(d / "ca.crt"),
             "-CAkey", str(d / "ca.key"), "-CAcreateserial", "-days", "2",
             "-extfile", str(d / "server.ext"), "-out", str(d / "server.crt"))  # fmt: skip
    return d


def _mosquitto(conf: Path, port: int) -> subprocess.Popen[bytes]:
    """Start Mosquitto with ``conf``; return once ``port`` accepts connections."""
    exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    proc = subprocess.Popen([exe, "-c", str(conf)], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            if time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("private mosquitto did not start") from None
            time.sleep(0.05)


def _publish(port: int, messages: list[tuple[str, bytes]]) -> None:
    """Publish (topic, payload) pairs at QoS 1 on the plain listener; return when the broker
    has acknowledged every one."""
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
    pub.max_inflight_messages_set(1000)
    pub.connect("127.0.0.1", port)
    pub.loop_start()
    try:
        for info in [pub.publish(t, p, qos=1) for t, p in messages]:
            info.wait_for_publish(30)
    finally:
        pub.disconnect()
        pub.loop_stop()


@pytest.fixture
def tls_broker(tmp_path: Path) -> Iterator[tuple[int, int, Path]]:
    """(plain port, TLS port, CA certificate) of a private Mosquitto."""
    pki = _pki(tmp_path / "pki")
    plain, tls = _free_port(), _free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(
        f"per_listener_settings false\nallow_anonymous true\nuser {getpass.getuser()}\n"
        "max_queued_messages 0\nmax_inflight_messages 0\n"
        f"listener {plain} 127.0.0.1\n"
        f"listener {tls} 127.0.0.1\ncafile {pki / 'ca.crt'}\ncertfile {pki / 'server.crt'}\n"
        f"keyfile {pki / 'server.key'}\n"
    )
    proc = _mosquitto(conf, tls)
    try:
        yield plain, tls, pki / "ca.crt"
    finally:
        proc.terminate()
        proc.wait(10)


def test_a_backlog_arrives_over_tls_each_message_once(tls_broker: tuple[int, int, Path]) -> None:
    plain, tls, ca = tls_broker
    tenant = f"t{uuid.uuid4().hex[:8]}"
    config = MqttSourceConfig(
        url=f"mqtts://127.0.0.1:{tls}",
        client_id=f"tls-{uuid.uuid4().hex[:8]}",
        group="tls",
        tenant_filter=tenant,
        ca_file=str(ca),
    )
    source = MqttSource(config)
    sunk: list[Any] = []
    sink = source._client.publish_sink

    def counting(*args: Any) -> None:
        sunk.append(args)
        sink(*args)  # type: ignore[misc]

    source._client.publish_sink = counting
    source.start()
    sizes = [0, 1, 300, 16_000, 16_384, 40_000, 70_000]
    messages = {
        (f"labcal/v1/{tenant}/st-{i % 7}/reading", f"{i}:".encode() + b"r" * sizes[i % 7])
        for i in range(3000)
    }
    try:
        _publish(plain, sorted(messages))
        got: list[Any] = []
        deadline = time.monotonic() + 60
        while len(got) < len(messages) and time.monotonic() < deadline:
            batch = source.next_batch(1000, 1.0)
            source.ack(batch)
            got += batch
        assert source.next_batch(10, 0.5) == []
    finally:
        source.close()
    assert len(got) == len(messages)
    assert {(i.topic, i.payload) for i in got} == messages
    assert len(sunk) == len(messages)  # every one by the lean path


def test_a_broker_restart_mid_backlog_loses_nothing(tmp_path: Path) -> None:
    """The source has a backlog in hand (read in bulk, a part acked), the broker restarts with
    its persistent session, the source reconnects: the broker sends again every message not
    acked before the restart, on the new connection; the old connection's acks are skipped."""
    port = _free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\nuser {getpass.getuser()}\n"
        f"persistence true\npersistence_location {tmp_path}/\n"
        "max_queued_messages 0\nmax_inflight_messages 0\n"
    )

    broker = _mosquitto(conf, port)
    tenant = f"t{uuid.uuid4().hex[:8]}"
    config = MqttSourceConfig(
        url=f"mqtt://127.0.0.1:{port}",
        client_id=f"re-{uuid.uuid4().hex[:8]}",
        group="re",
        tenant_filter=tenant,
        session_expiry_s=300,
    )
    source = MqttSource(config)
    source._client.reconnect_delay_set(min_delay=0.1, max_delay=0.5)
    source.start()
    sent = {f"{i}:".encode() + b"r" * 300 for i in range(5000)}
    acked: set[bytes] = set()
    again: set[bytes] = set()  # received on the second connection
    try:
        _publish(port, [(f"labcal/v1/{tenant}/st-1/reading", p) for p in sent])
        while len(acked) < 1500:  # a part of the backlog, acked
            batch = source.next_batch(200, 5.0)
            assert batch
            source.ack(batch)
            acked |= {i.payload for i in batch}
        time.sleep(0.5)  # let the acks reach the broker
        broker.terminate()  # it saves the session and the messages not acked
        broker.wait(10)
        broker = _mosquitto(conf, port)
        deadline = time.monotonic() + 60
        while source._connection < 2:  # reconnected, with the old messages still in hand
            assert time.monotonic() < deadline, "the source did not reconnect"
            time.sleep(0.05)
        while not (sent - acked) <= again and time.monotonic() < deadline:
            batch = source.next_batch(500, 1.0)
            source.ack(batch)  # those of the first connection: skipped
            again |= {i.payload for i in batch if i.connection == 2}
    finally:
        source.close()
        broker.terminate()
        broker.wait(10)
    assert (sent - acked) <= again  # every message not acked came again: nothing lost
    assert source.stale_acks > 0  # the old connection's messages were not acked on the new one


def test_the_source_holds_at_most_its_receive_maximum_of_a_backlog(tmp_path: Path) -> None:
    """Mosquitto 2.0.x sends more unacknowledged messages than the client's Receive Maximum; the
    source stops reading its socket at that many queued, so a backlog stays in the broker."""
    port = _free_port()
    conf = tmp_path / "mosquitto.conf"
    lines = [f"listener {port} 127.0.0.1", "allow_anonymous true", "persistence false",
             "max_queued_messages 100000", "max_inflight_messages 0"]  # fmt: skip
    if getpass.getuser() == "root":
        lines.append("user root")
    conf.write_text("\n".join(lines) + "\n")
    broker = _mosquitto(conf, port)
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    source = MqttSource(
        MqttSourceConfig(
            url=f"mqtt://127.0.0.1:{port}",
            client_id=f"rm-{tenant}",
            group="g",
            tenant_filter=tenant,
            receive_maximum=500,
        )
    )
    try:
        source.start()
        n = 20_000
        _publish(port, [(f"labcal/v1/{tenant}/st/reading", b"x" * 300)] * n)
        time.sleep(1.0)  # nothing taken yet: the broker would have pushed the whole backlog
        held = source._queue.qsize()
        assert 0 < held <= 500 + 1000, held  # the limit, plus at most one socket read
        got = 0
        deadline = time.monotonic() + 60
        while got < n and time.monotonic() < deadline:
            items = source.next_batch(200, 0.5)
            source.ack(items)
            got += len(items)
            assert source._queue.qsize() <= 500 + 1000
        assert got == n
    finally:
        source.close()
        broker.terminate()
        broker.wait(10)
