"""The publisher against a real Mosquitto: the machine's broker, and a private one we stop."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt import publish

from labcal_edge.config import MqttConfig
from labcal_edge.emitter import Emitter
from labcal_edge.messages import StationIdentity, build_envelope, receipt_topic
from labcal_edge.ntp import FixedProbe
from labcal_edge.outbox import Outbox
from labcal_edge.publisher import Publisher
from labcal_shared.contracts import (
    DeviceRef,
    DeviceType,
    Kind,
    MassUnit,
    Reading,
    StationState,
    StationStatus,
    build_topic,
    encode,
)
from labcal_shared.contracts.receipts import encode_receipt

from .broker import PrivateBroker
from .subscriber import Collector

BALANCE = DeviceRef(type=DeviceType.BALANCE, make="Mettler Toledo", model="XS205", serial="B1")


def mqtt_config(url: str, **kw: float) -> MqttConfig:
    parts = urlsplit(url)
    return MqttConfig(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 1883,
        reconnect_base_s=0.1,
        reconnect_cap_s=0.5,
        **kw,
    )


def status_builder(identity: StationIdentity, emitter: Emitter):  # type: ignore[no-untyped-def]
    def build(online: bool) -> tuple[str, bytes]:
        now, quality = emitter.clock()
        env = build_envelope(
            identity,
            seq=emitter.outbox.reserve_seq(),
            message_id=__import__("uuid").uuid4(),
            edge_time=now,
            clock=quality,
            payload=StationStatus(state=StationState.ONLINE if online else StationState.OFFLINE),
        )
        return build_topic(identity.tenant, identity.station, Kind.STATUS), encode(env)

    return build


@contextmanager
def running(publisher: Publisher) -> Iterator[threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(target=publisher.run, args=(stop,), daemon=True)
    thread.start()
    try:
        yield stop
    finally:
        stop.set()
        thread.join(10)
        assert not thread.is_alive()


def readings(emitter: Emitter, n: int, start: int = 0) -> list[str]:
    ids = []
    for i in range(start, start + n):
        env = emitter.emit(Reading(value=float(i), unit=MassUnit.MG, stable=True), device=BALANCE)
        ids.append(str(env.message_id))
    return ids


def test_every_message_arrives_and_leaves_the_outbox_only_after_puback(
    tmp_path: Path, mqtt_url: str, tenant_id: str
) -> None:
    identity = StationIdentity(tenant_id, "st1")
    outbox = Outbox(tmp_path / "o.sqlite3")
    emitter = Emitter(identity, outbox, FixedProbe(True))
    sent = readings(emitter, 300)
    collector = Collector(mqtt_url, tenant_id, kind="reading").start()
    try:
        publisher = Publisher(
            mqtt_config(mqtt_url), f"edge-{tenant_id}", outbox, status_builder(identity, emitter)
        )
        with running(publisher):
            sent += readings(emitter, 100, start=300)
            got = collector.wait_for(lambda m: len({str(e.message_id) for e in m}) >= 400)
            collector.wait_for(lambda m: outbox.depth == 0)  # the last PUBACKs
            assert publisher.connected.wait(5)
        assert {str(e.message_id) for e in got} == set(sent)
        values = [e.payload.value for e in got if isinstance(e.payload, Reading)]
        assert values[: len(set(values))] == sorted(set(values))  # in order
        assert outbox.depth == 0
        assert publisher.acked_total == 400
    finally:
        collector.stop()


def test_status_online_then_offline_on_clean_stop(
    tmp_path: Path, mqtt_url: str, tenant_id: str
) -> None:
    identity = StationIdentity(tenant_id, "st1")
    outbox = Outbox(tmp_path / "o.sqlite3")
    emitter = Emitter(identity, outbox, FixedProbe(True))
    collector = Collector(mqtt_url, tenant_id, kind="status").start()
    try:
        publisher = Publisher(
            mqtt_config(mqtt_url), f"edge-{tenant_id}", outbox, status_builder(identity, emitter)
        )
        with running(publisher):
            got = collector.wait_for(lambda m: len(m) >= 1)
            assert got[0].payload.state is StationState.ONLINE  # type: ignore[union-attr]
        got = collector.wait_for(lambda m: len(m) >= 2)
        assert got[-1].payload.state is StationState.OFFLINE  # type: ignore[union-attr]
    finally:
        collector.stop()


def test_broker_outage_keeps_messages_and_drains_after(tmp_path: Path, tenant_id: str) -> None:
    broker = PrivateBroker(tmp_path / "broker")
    broker.start()
    identity = StationIdentity(tenant_id, "st1")
    outbox = Outbox(tmp_path / "o.sqlite3")
    emitter = Emitter(identity, outbox, FixedProbe(True))
    collector = Collector(broker.url, tenant_id, kind="reading").start()
    try:
        publisher = Publisher(mqtt_config(broker.url), f"edge-{tenant_id}", outbox)
        with running(publisher):
            sent = readings(emitter, 50)
            collector.wait_for(lambda m: len(m) >= 50)
            broker.stop()
            sent += readings(emitter, 50, start=50)
            assert outbox.depth >= 50  # nothing leaves without a PUBACK
            broker.start()
            got = collector.wait_for(lambda m: {str(e.message_id) for e in m} >= set(sent))
            assert {str(e.message_id) for e in got} >= set(sent)
            collector.wait_for(lambda m: outbox.depth == 0, timeout=10)
            assert outbox.depth == 0
    finally:
        collector.stop()
        broker.stop()


def test_puback_no_matching_subscribers_is_not_a_delivery(tmp_path: Path, tenant_id: str) -> None:
    """Regression: Mosquitto answers 0x10 "No matching subscribers" when nobody subscribes (as
    after a broker restart, before the ingest workers' shared subscriptions come back); the
    message was dropped by the broker, so it must stay in the outbox and be sent again."""
    broker = PrivateBroker(tmp_path / "broker")
    broker.start()
    identity = StationIdentity(tenant_id, "st1")
    outbox = Outbox(tmp_path / "o.sqlite3")
    emitter = Emitter(identity, outbox, FixedProbe(True))
    collector = Collector(broker.url, tenant_id, kind="reading")
    try:
        cfg = mqtt_config(broker.url, no_subscriber_retry_s=0.3)
        publisher = Publisher(cfg, f"edge-{tenant_id}", outbox)
        with running(publisher):
            sent = readings(emitter, 20)
            deadline = time.monotonic() + 10
            while publisher.no_subscriber_total < 20 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert publisher.no_subscriber_total >= 20
            assert outbox.depth == 20  # dropped by the broker: nothing left the outbox
            collector.start()
            got = collector.wait_for(lambda m: {str(e.message_id) for e in m} >= set(sent))
            collector.wait_for(lambda m: outbox.depth == 0, timeout=10)
        assert {str(e.message_id) for e in got} == set(sent)
        assert outbox.depth == 0
    finally:
        collector.stop()
        broker.stop()


def send_receipt(url: str, topic: str, stored: list[tuple[int, str]]) -> None:
    parts = urlsplit(url)
    publish.single(
        topic,
        encode_receipt(stored),
        qos=1,
        hostname=parts.hostname or "127.0.0.1",
        port=parts.port or 1883,
        protocol=mqtt.MQTTv5,
    )


def test_with_storage_receipts_a_message_leaves_only_on_its_receipt(
    tmp_path: Path, tenant_id: str
) -> None:
    broker = PrivateBroker(tmp_path / "broker")
    broker.start()
    identity = StationIdentity(tenant_id, "st1")
    outbox = Outbox(tmp_path / "o.sqlite3")
    emitter = Emitter(identity, outbox, FixedProbe(True))
    collector = Collector(broker.url, tenant_id, kind="reading").start()
    cmd = receipt_topic(identity)
    try:
        cfg = mqtt_config(broker.url, receipt_timeout_s=1.0).model_copy(
            update={"storage_receipts": True}
        )
        publisher = Publisher(cfg, f"edge-{tenant_id}", outbox, receipt_topic=cmd)
        with running(publisher):
            assert publisher.connected.wait(10)
            envs = [
                emitter.emit(Reading(value=float(i), unit=MassUnit.MG, stable=True), device=BALANCE)
                for i in range(10)
            ]
            collector.wait_for(lambda m: len(m) >= 10)
            deadline = time.monotonic() + 5
            while publisher.acked_total < 10 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert publisher.acked_total >= 10
            assert outbox.depth == 10  # the broker's PUBACK alone deletes nothing
            first = [(e.seq, e.message_id.hex) for e in envs[:5]]  # as ingest sends them
            wrong_id = [(envs[5].seq, str(envs[6].message_id))]  # seq and id must both match
            send_receipt(broker.url, cmd, first + wrong_id)
            collector.wait_for(lambda m: outbox.depth == 5, timeout=10)
            assert outbox.depth == 5
            # no receipt for the rest: sent again after receipt_timeout_s
            rest = {str(e.message_id) for e in envs[5:]}
            collector.wait_for(
                lambda m: sum(str(e.message_id) in rest for e in m) >= 10, timeout=10
            )
            send_receipt(broker.url, cmd, [(e.seq, str(e.message_id)) for e in envs[5:]])
            collector.wait_for(lambda m: outbox.depth == 0, timeout=10)
        assert outbox.depth == 0
        assert publisher.confirmed_total == 10
        resent = [e for e in collector.messages if str(e.message_id) in rest]
        assert len(resent) >= 10  # each of the 5 at least twice, same id
        assert {str(e.message_id) for e in collector.messages[:10]} == {
            str(e.message_id) for e in envs
        }
    finally:
        collector.stop()
        broker.stop()
