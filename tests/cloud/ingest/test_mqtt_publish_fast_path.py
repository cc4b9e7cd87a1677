"""The lean PUBLISH path of the ingest source's paho client.

``parse_publish`` is checked against paho's own decoder (``_packet.decode_publish``) on the
bytes paho itself would send; malformed packets must reach paho's handling unchanged. Then the
source on the real broker: MQTT 5 and 3.1.1, QoS 0 and 1, empty to 70 kB payloads, acks;
QoS 1 is at-least-once there: an identical redelivered copy (DUP=1) is accepted, see ``_drain``.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt import _packet
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.exception import MalformedPacket
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from labcal_cloud.ingest.core import Incoming
from labcal_cloud.ingest.mqtt_source import (
    MqttSource,
    MqttSourceConfig,
    _BufferedClient,
    parse_publish,
)

V5 = MQTTProtocolVersion.MQTTv5
V311 = MQTTProtocolVersion.MQTTv311


def props(**values: Any) -> Properties:
    """PUBLISH properties; ``UserProperty`` may be a list of pairs (each added in turn)."""
    p = Properties(PacketTypes.PUBLISH)
    for name, value in values.items():
        for v in value if name == "UserProperty" else [value]:
            setattr(p, name, v)
    return p


def paho_publish_packet(
    protocol: MQTTProtocolVersion,
    topic: str,
    payload: bytes,
    qos: int,
    mid: int = 1,
    properties: Properties | None = None,
    *,
    dup: bool = False,
    retain: bool = False,
) -> tuple[int, bytearray]:
    """(first header byte, the bytes after the fixed header) of the PUBLISH paho would send."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=protocol)
    sent: list[bytes] = []
    client._sock = object()  # "connected": paho only checks it is there
    client._packet_queue = lambda _cmd, packet, _mid, _qos, _info=None: sent.append(bytes(packet))
    try:
        client._send_publish(mid, topic.encode(), payload, qos, retain, dup, None, properties)
    finally:
        client._sock = None
    (packet,) = sent
    pos = 1
    while packet[pos] & 0x80:  # the remaining length, a variable byte integer
        pos += 1
    return packet[0], bytearray(packet[pos + 1 :])


def paho_decodes(
    command: int, body: bytearray, protocol: MQTTProtocolVersion
) -> tuple[str, bytes, int, int]:
    result = _packet.decode_publish(command, body, protocol)
    return result.topic.decode(), bytes(result.payload), result.mid, result.qos


TOPIC = "labcal/v1/acme/st-1/reading"
LONG = "x" * 200  # a user property this long makes the properties length two bytes

WELL_FORMED = [
    pytest.param(TOPIC, b"", None, id="empty-payload"),
    pytest.param(TOPIC, b"{", None, id="1-byte"),
    pytest.param(TOPIC, b"r" * 360, None, id="360-bytes"),
    pytest.param(TOPIC, bytes(range(256)) * 280, None, id="70kB-binary"),
    pytest.param("labcal/v1/ünï/日本/reading", b"\x00\xff", None, id="utf8-topic"),
    pytest.param("t" * 300, b"p", None, id="topic-over-255-bytes"),
    pytest.param(TOPIC, b"{}", props(UserProperty=[("k", "v")]), id="user-property"),
    pytest.param(TOPIC, b"{}", props(MessageExpiryInterval=60), id="message-expiry"),
    pytest.param(
        TOPIC,
        b"{}",
        props(PayloadFormatIndicator=1, ContentType="application/json"),
        id="format-and-content-type",
    ),
    pytest.param(
        TOPIC, b"{}", props(UserProperty=[("a", "1"), ("long", LONG)]), id="props-over-127"
    ),
    pytest.param(TOPIC, b"", props(UserProperty=[("k", LONG)]), id="props-over-127-no-payload"),
    pytest.param(
        TOPIC,
        b"p" * 1000,
        props(UserProperty=[("k", "v" * 20_000)], CorrelationData=b"\x00\x01"),
        id="props-over-16383",
    ),
    pytest.param(
        TOPIC,
        b"x",
        props(ResponseTopic="r/t", SubscriptionIdentifier=300),
        id="response-topic-subscription-id",
    ),
]


CASES = [
    pytest.param(protocol, *case.values, id=f"{name}-{case.id}")
    for protocol, name in [(V5, "v5"), (V311, "v311")]
    for case in WELL_FORMED
    if protocol == V5 or case.values[2] is None  # no properties before MQTT 5
]


@pytest.mark.parametrize(("protocol", "topic", "payload", "properties"), CASES)
@pytest.mark.parametrize("qos", [0, 1])
def test_parse_publish_agrees_with_paho(protocol, topic, payload, properties, qos):
    for mid, dup, retain in [(1, False, False), (65535, True, True), (256, False, True)]:
        command, body = paho_publish_packet(
            protocol, topic, payload, qos, mid, properties, dup=dup, retain=retain
        )
        expected = paho_decodes(command, body, protocol)
        assert expected[:2] == (topic, payload)
        parsed = parse_publish(command, body, protocol == V5)
        assert parsed == expected
        assert type(parsed[1]) is bytes  # not the bytearray paho reads into
        assert parse_publish(command, bytes(body), protocol == V5) == expected


def _body(topic: bytes, rest: bytes = b"", length: int | None = None) -> bytearray:
    n = len(topic) if length is None else length
    return bytearray(n.to_bytes(2, "big") + topic + rest)


PUBLISH_QOS0, PUBLISH_QOS1, PUBLISH_QOS2 = 0x30, 0x32, 0x34

# (command, body, protocol): what paho refuses with MalformedPacket (a protocol error)
MALFORMED = [
    pytest.param(PUBLISH_QOS0, bytearray(), V311, id="empty"),
    pytest.param(PUBLISH_QOS0, bytearray(b"\x00"), V5, id="1-byte"),
    pytest.param(PUBLISH_QOS0, _body(b"abc", length=16), V311, id="topic-past-the-end"),
    pytest.param(PUBLISH_QOS1, _body(b"a/b", b"\x00"), V311, id="half-a-packet-id"),
    pytest.param(PUBLISH_QOS1, _body(b"a/b", b"\x00\x01"), V5, id="no-properties-length"),
    pytest.param(PUBLISH_QOS0, _body(b"a/b", b"\x80"), V5, id="properties-length-cut-short"),
    pytest.param(PUBLISH_QOS0, _body(b"a/b", b"\xff\xff\xff\xff\x01"), V5, id="5-byte-varint"),
    pytest.param(PUBLISH_QOS0, _body(b"a/b", b"\x05\x01"), V5, id="properties-past-the-end"),
    pytest.param(PUBLISH_QOS1, _body(b"a/b", b"\x00\x07\x81\x01\x01"), V5, id="long-props-past"),
    pytest.param(PUBLISH_QOS0, _body(b"", b"payload"), V311, id="empty-topic-3.1.1"),
]


class _Recorder:
    """A ``_BufferedClient`` with a sink and an ``on_message`` that record what they get."""

    def __init__(self, protocol: MQTTProtocolVersion) -> None:
        self.client = _BufferedClient(
            CallbackAPIVersion.VERSION2, protocol=protocol, manual_ack=True
        )
        self.sunk: list[tuple[str, bytes, int, int]] = []
        self.messages: list[mqtt.MQTTMessage] = []
        self.queued: list[bytes] = []
        self.client.publish_sink = lambda *a: self.sunk.append(a)
        self.client.on_message = lambda _c, _u, msg: self.messages.append(msg)
        self.client._packet_queue = self._queue

    def _queue(self, _cmd: int, packet: bytes, _mid: int, _qos: int, _info: Any = None) -> int:
        self.queued.append(bytes(packet))
        return MQTTErrorCode.MQTT_ERR_SUCCESS

    def handle(self, command: int, body: bytearray) -> MQTTErrorCode:
        self.client._in_packet = dict(self.client._in_packet, command=command, packet=body)
        return self.client._handle_publish()


@pytest.mark.parametrize(("command", "body", "protocol"), MALFORMED)
def test_malformed_packets_get_paho_s_handling(command, body, protocol):
    assert parse_publish(command, body, protocol == V5) is None
    with pytest.raises(MalformedPacket):  # paho's own verdict on them
        _packet.decode_publish(command, body, protocol)
    rec = _Recorder(protocol)
    with pytest.raises(MalformedPacket):  # paho's _packet_read turns it into a protocol error
        rec.handle(command, body)
    assert rec.sunk == rec.messages == rec.queued == []


def test_what_paho_handles_specially_goes_to_paho():
    rec = _Recorder(V5)
    # a topic that is not UTF-8: paho hands the message on, its topic raising when read
    assert rec.handle(PUBLISH_QOS1, _body(b"a/\xff", b"\x00\x09\x00p")) == 0
    (msg,) = rec.messages
    assert (msg._topic, msg.payload, msg.mid, msg.qos) == (b"a/\xff", b"p", 9, 1)
    # an empty topic in MQTT 5 (what a topic alias would look like)
    rec.handle(PUBLISH_QOS0, _body(b"", b"\x03\x23\x00\x01x"))
    assert rec.messages[-1].topic == ""
    assert rec.messages[-1].properties.TopicAlias == 1
    # QoS 2: paho keeps it until PUBREL and answers with a PUBREC
    command, body = paho_publish_packet(V5, TOPIC, b"two", 2, mid=7)
    assert parse_publish(command, body, True) is None
    assert rec.handle(command, body) == 0
    assert rec.queued == [bytes([0x50, 2, 0, 7])]
    assert rec.client._in_messages[7].payload == b"two"
    assert rec.sunk == []


def test_the_lean_path_takes_qos_0_and_1_without_a_puback():
    for protocol in (V5, V311):
        rec = _Recorder(protocol)
        for qos, mid in [(0, 1), (1, 513)]:
            command, body = paho_publish_packet(protocol, TOPIC, b"{}", qos, mid)
            assert rec.handle(command, body) == MQTTErrorCode.MQTT_ERR_SUCCESS
        assert rec.sunk == [(TOPIC, b"{}", 0, 0), (TOPIC, b"{}", 513, 1)]
        assert rec.messages == rec.queued == []  # no on_message, no PUBACK (manual ack)


def test_without_manual_ack_the_lean_path_pubacks_as_paho_does():
    rec = _Recorder(V5)
    rec.client._manual_ack = False
    command, body = paho_publish_packet(V5, TOPIC, b"{}", 1, mid=258)
    assert rec.handle(command, body) == MQTTErrorCode.MQTT_ERR_SUCCESS
    assert rec.queued == [bytes([0x40, 2, 1, 2])]


def test_without_a_sink_paho_delivers_to_on_message_and_the_source_queues_it():
    source = MqttSource(MqttSourceConfig())
    source._client.publish_sink = None
    source._connection = 3
    command, body = paho_publish_packet(V5, TOPIC, b"{}", 1, mid=5, properties=props())
    source._client._in_packet = dict(source._client._in_packet, command=command, packet=body)
    assert source._client._handle_publish() == MQTTErrorCode.MQTT_ERR_SUCCESS
    (item,) = source.next_batch(10, 0)
    assert (item.topic, item.payload, item.mid, item.qos, item.connection) == (
        TOPIC,
        b"{}",
        5,
        1,
        3,
    )
    assert type(item.payload) is bytes


# --- on the real broker ---------------------------------------------------------------------

SIZES = [0, 1, 200, 70_000]


def _publish_all(mqtt_url: str, messages: list[tuple[str, bytes, int]]) -> None:
    """Publish as an MQTT 5 client with user properties; wait until the broker has them all."""
    parts = urlsplit(mqtt_url)
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=V5)
    done = threading.Semaphore(0)
    pub.on_publish = lambda *_a: done.release()
    pub.connect(parts.hostname or "127.0.0.1", parts.port or 1883)
    pub.loop_start()
    try:
        for i, (topic, payload, qos) in enumerate(messages):
            p = props(UserProperty=[("seq", str(i)), ("src", "test")], ContentType="x/y")
            pub.publish(topic, payload, qos=qos, properties=p)
        for _ in messages:
            assert done.acquire(timeout=10)
    finally:
        pub.disconnect()
        pub.loop_stop()


def _drain(
    source: MqttSource, want: int, timeout_s: float = 10.0
) -> tuple[list[Incoming], list[Incoming]]:
    """(the ``want`` distinct messages, the redelivered copies): QoS 1 is at-least-once, and
    Mosquitto 2.0.11 was seen (2 cores, 2026-12-08, loaded) resending the unacked 70 kB QoS 1
    message with DUP=1 (command byte 0x3a), same packet id, on the same connection; a copy must
    be identical (topic, payload, packet id, QoS 1, connection) to a message already received."""
    items: list[Incoming] = []
    again: list[Incoming] = []

    def take(batch: list[Incoming]) -> None:
        for i in batch:
            key = (i.topic, i.payload, i.mid, i.qos, i.connection)
            seen = any(key == (j.topic, j.payload, j.mid, j.qos, j.connection) for j in items)
            (again if i.qos == 1 and seen else items).append(i)

    while len(items) < want:
        batch = source.next_batch(want, timeout_s)
        assert batch, f"got {len(items)} of {want} messages"
        take(batch)
    while batch := source.next_batch(10, 0.3):
        take(batch)
    assert len(items) == want, items[want:]
    return items, again


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
def test_the_source_receives_and_acks_through_the_lean_path(
    mqtt_url: str, tenant_id: str, protocol: str
) -> None:
    config = MqttSourceConfig(
        url=mqtt_url,
        client_id=f"fast-{uuid.uuid4().hex[:12]}",
        group=f"g-{uuid.uuid4().hex[:8]}",
        tenant_filter=tenant_id,
        session_expiry_s=120,
        protocol=protocol,
    )
    messages = [
        (
            f"labcal/v1/{tenant_id}/st-{qos}-{size}/reading",
            bytes(range(256)) * (size // 256) + b"r" * (size % 256),
            qos,
        )
        for qos in (1, 0)
        for size in SIZES
    ]

    def started() -> tuple[MqttSource, list[tuple[str, bytes, int, int]]]:
        source = MqttSource(config)
        sunk: list[tuple[str, bytes, int, int]] = []
        sink = source._client.publish_sink

        def counting(*args: Any) -> None:
            sunk.append(args)
            sink(*args)

        source._client.publish_sink = counting
        source.start()
        return source, sunk

    source, sunk = started()
    try:
        _publish_all(mqtt_url, messages)
        items, redelivered = _drain(source, len(messages))
        assert sorted((i.topic, i.payload, i.qos) for i in items) == sorted(messages)
        assert len(sunk) == len(messages) + len(redelivered)  # all took the lean path
        assert all(i.connection == 1 and i.received_at.tzinfo is not None for i in items)
        assert all(i.mid == 0 for i in items if i.qos == 0)
        assert len({i.mid for i in items if i.qos == 1}) == len(SIZES)
        kept = next(i for i in items if i.qos == 1 and len(i.payload) == 200)
        source.ack([i for i in items + redelivered if (i.qos, i.mid) != (1, kept.mid)])
    finally:
        source.close()

    # same client id: the broker resends only the unacked message
    source, sunk = started()
    try:
        (again,), redelivered = _drain(source, 1)
        assert (again.topic, again.payload, again.qos) == (kept.topic, kept.payload, 1)
        assert len(sunk) == 1 + len(redelivered)
        source.ack([again, *redelivered])
        assert source.stale_acks == 0
    finally:
        source.close()

    source, _ = started()
    try:
        assert source.next_batch(10, 1.0) == []  # everything acked: nothing comes back
    finally:
        source.close()
