"""The ingest client's bulk read (``_BufferedClient.loop_read``): every whole packet the socket
has, PUBLISH packets straight to the sink, the others through paho's reader and handlers.

The same byte stream is fed in chunks of every size from 1 byte to all at once: the sink must get
exactly the QoS 0/1 messages, in order, whatever the split; paho must still see the rest.
"""

from __future__ import annotations

import random
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion

from labcal_cloud.ingest.mqtt_source import _BufferedClient, _BufferedSocket

from .test_mqtt_publish_fast_path import paho_publish_packet, props

V5 = MQTTProtocolVersion.MQTTv5
V311 = MQTTProtocolVersion.MQTTv311
PINGRESP = b"\xd0\x00"


def frame(command: int, body: bytes | bytearray) -> bytes:
    """A whole packet: the first byte, the remaining length (variable byte integer), the body."""
    n, length = len(body), bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        length.append(byte | (0x80 if n else 0))
        if not n:
            return bytes([command]) + bytes(length) + bytes(body)


class ChunkedSocket:
    """Hands out ``data`` in chunks of ``size`` bytes (or random sizes), then says no more data
    for now (``BlockingIOError``) or, with ``eof``, that the peer closed (``b""``)."""

    def __init__(self, data: bytes, size: int | None, *, eof: bool = False, seed: int = 0) -> None:
        self.data, self.size, self.eof, self.pos = data, size, eof, 0
        self.random = random.Random(seed)
        self.reads = 0
        self.closed = False

    def close(self) -> None:
        self.closed = True

    def recv(self, bufsize: int) -> bytes:
        if self.pos >= len(self.data):
            if self.eof:
                return b""
            raise BlockingIOError
        self.reads += 1
        size = self.size or self.random.randint(1, 2000)
        out = self.data[self.pos : self.pos + min(size, bufsize)]
        self.pos += len(out)
        return out


class Client:
    """A ``_BufferedClient`` on a :class:`ChunkedSocket`, recording what reaches the sink, the
    packets paho queues (PUBACK, PUBREC) and disconnects."""

    def __init__(self, protocol: MQTTProtocolVersion, sock: ChunkedSocket) -> None:
        self.client = _BufferedClient(
            CallbackAPIVersion.VERSION2, protocol=protocol, manual_ack=True
        )
        self.sunk: list[tuple[str, bytes, int, int]] = []
        self.queued: list[bytes] = []
        self.disconnects: list[Any] = []
        self.client.publish_sink = lambda *a: self.sunk.append(a)
        self.client._packet_queue = self._queue
        self.client.on_disconnect = lambda *a: self.disconnects.append(a)
        self.sock = sock
        self.client._sock = _BufferedSocket(sock)

    def _queue(self, _cmd: int, packet: bytes, _mid: int, _qos: int, _info: Any = None) -> int:
        self.queued.append(bytes(packet))
        return MQTTErrorCode.MQTT_ERR_SUCCESS

    def read_all(self) -> MQTTErrorCode:
        """loop_read until the socket has nothing more, as paho's loop would call it."""
        for _ in range(len(self.sock.data) + 10):
            rc = self.client.loop_read()
            if rc != MQTTErrorCode.MQTT_ERR_SUCCESS or self.client._sock is None:
                return rc
            buffered = self.client._sock.pending()
            if self.sock.pos >= len(self.sock.data) and not buffered and not self.sock.eof:
                return rc
        pytest.fail("loop_read made no progress")


TOPIC = "labcal/v1/acme/st-1/reading"


def stream(protocol: MQTTProtocolVersion) -> tuple[bytes, list[tuple[str, bytes, int, int]]]:
    """PUBLISH packets of many sizes and both QoS levels, a PINGRESP and a QoS 2 PUBLISH
    between them; and the (topic, payload, mid, qos) the sink should get."""
    packets, expected = [], []
    sizes = [0, 1, 127, 128, 360, 16_383, 16_384, 300_000, 360, 2]  # 300 kB: over one read
    for i, size in enumerate(sizes):
        qos = i % 2
        mid = 0 if qos == 0 else 1000 + i
        payload = bytes((i + j) % 256 for j in range(size))
        p = props(UserProperty=[("k", "v" * 150)]) if protocol == V5 and i == 3 else None
        command, body = paho_publish_packet(protocol, f"{TOPIC}/{i}", payload, qos, mid or 1, p)
        packets.append(frame(command, body))
        expected.append((f"{TOPIC}/{i}", payload, mid, qos))
        if i == 4:
            packets.append(PINGRESP)
        if i == 6:
            command, body = paho_publish_packet(protocol, f"{TOPIC}/qos2", b"two", 2, 77)
            packets.append(frame(command, body))
    return b"".join(packets), expected


@pytest.mark.parametrize("protocol", [V5, V311], ids=["v5", "v311"])
@pytest.mark.parametrize("size", [1, 2, 3, 5, 64, 1000, 4096, 100_000, None, 10**9])
def test_every_split_gives_the_sink_each_message_once_in_order(
    protocol: MQTTProtocolVersion, size: int | None
) -> None:
    data, expected = stream(protocol)
    c = Client(protocol, ChunkedSocket(data, size))
    c.client._ping_t = 12345.0  # waiting for a PINGRESP
    assert c.read_all() == MQTTErrorCode.MQTT_ERR_SUCCESS
    assert c.sunk == expected
    assert c.client._ping_t == 0  # paho handled the PINGRESP
    assert c.queued == [bytes([0x50, 2, 0, 77])]  # and answered the QoS 2 PUBLISH (PUBREC)
    assert c.client._in_messages[77].payload == b"two"
    assert c.client._sock.pending() == 0


def test_random_splits() -> None:
    data, expected = stream(V5)
    for seed in range(20):
        c = Client(V5, ChunkedSocket(data, None, seed=seed))
        assert c.read_all() == MQTTErrorCode.MQTT_ERR_SUCCESS
        assert c.sunk == expected


def test_a_backlog_is_taken_in_few_reads() -> None:
    packets = [paho_publish_packet(V5, TOPIC, b"r" * 360, 1, mid) for mid in range(1, 2001)]
    data = b"".join(frame(c, b) for c, b in packets)
    sock = ChunkedSocket(data, 10**9)
    c = Client(V5, sock)
    assert c.client.loop_read() == MQTTErrorCode.MQTT_ERR_SUCCESS
    assert len(c.sunk) == 256 * 1024 // len(frame(*packets[0]))  # all whole ones of a read
    assert c.read_all() == MQTTErrorCode.MQTT_ERR_SUCCESS
    assert [m for _t, _p, m, _q in c.sunk] == list(range(1, 2001))
    assert sock.reads <= len(data) // (256 * 1024) + 1


def test_without_manual_ack_each_qos_1_message_is_pubacked() -> None:
    data = b"".join(
        frame(*paho_publish_packet(V311, TOPIC, b"{}", qos, mid)) for qos, mid in [(1, 5), (0, 1)]
    )
    c = Client(V311, ChunkedSocket(data, None))
    c.client._manual_ack = False
    c.read_all()
    assert c.queued == [bytes([0x40, 2, 0, 5])]
    assert [m for _t, _p, m, _q in c.sunk] == [5, 0]


def test_the_messages_before_the_broker_closes_are_kept_then_the_connection_is_lost() -> None:
    data, expected = stream(V5)
    c = Client(V5, ChunkedSocket(data, 5000, eof=True))
    assert c.read_all() == MQTTErrorCode.MQTT_ERR_CONN_LOST
    assert c.sunk == expected
    assert c.client._sock is None
    assert len(c.disconnects) == 1


def test_a_length_of_five_bytes_is_paho_s_protocol_error() -> None:
    good = frame(*paho_publish_packet(V5, TOPIC, b"ok", 1, 9))
    c = Client(V5, ChunkedSocket(good + b"\x30\xff\xff\xff\xff\x01", None))
    assert c.read_all() == MQTTErrorCode.MQTT_ERR_PROTOCOL
    assert c.sunk == [(TOPIC, b"ok", 9, 1)]


def test_a_malformed_publish_goes_to_paho_s_handling() -> None:
    bad = frame(0x32, b"\x00\x03a/b\x00")  # QoS 1 with half a packet id
    c = Client(V311, ChunkedSocket(bad, None))
    assert c.read_all() == MQTTErrorCode.MQTT_ERR_PROTOCOL
    assert c.sunk == []


def test_receiving_bytes_counts_for_the_keepalive() -> None:
    data = frame(*paho_publish_packet(V5, TOPIC, b"x", 0, 1))
    c = Client(V5, ChunkedSocket(data, None))
    c.client._last_bytes_received = 0.0
    c.read_all()
    assert c.client._last_bytes_received > 0


def test_without_a_sink_paho_reads_one_packet_per_call() -> None:
    packets = [paho_publish_packet(V5, TOPIC, b"p", 0, 1) for _ in range(3)]
    c = Client(V5, ChunkedSocket(b"".join(frame(*p) for p in packets), None))
    got: list[mqtt.MQTTMessage] = []
    c.client.publish_sink = None
    c.client.on_message = lambda _c, _u, msg: got.append(msg)
    c.client.loop_read()
    assert len(got) == 1


def test_half_a_packet_is_not_pending_so_paho_waits_for_the_socket() -> None:
    whole = frame(*paho_publish_packet(V5, TOPIC, b"x" * 500, 1, 3))
    sock = ChunkedSocket(whole[:200], None)
    c = Client(V5, sock)
    assert c.client.loop_read() == MQTTErrorCode.MQTT_ERR_SUCCESS
    assert c.sunk == []
    assert c.client._sock.pending() == 0  # else paho's loop would spin instead of select()ing
    sock.data += whole[200:]
    c.read_all()
    assert c.sunk == [(TOPIC, b"x" * 500, 3, 1)]


@pytest.mark.parametrize("protocol", [V5, V311], ids=["v5", "v311"])
@pytest.mark.parametrize("cut", [1, 2, 3, 50, 65_536, 70_000])
@pytest.mark.parametrize("size", [1, 7, 4096, 65_536, None])
def test_a_packet_paho_s_reader_began_is_finished_once_then_the_bulk_read_resumes(
    protocol: MQTTProtocolVersion, cut: int, size: int | None
) -> None:
    """paho's own ``_packet_read`` may hold the start of a 70 kB QoS 1 PUBLISH (as the broker
    test sends) when the socket runs dry: the rest is read once, through paho's reader, then the
    bulk read resumes; each message reaches the sink exactly once."""
    payload = bytes(range(256)) * 273 + b"r" * 112  # 70,000 bytes
    command, body = paho_publish_packet(protocol, f"{TOPIC}/big", payload, 1, 4)
    rest, expected = stream(protocol)
    data = frame(command, body) + rest
    sock = ChunkedSocket(data[:cut], size)  # the socket has only the first ``cut`` bytes
    c = Client(protocol, sock)
    assert c.client._packet_read() == MQTTErrorCode.MQTT_ERR_AGAIN
    assert c.client._in_packet["command"] == command  # paho's reader is mid-packet
    sock.data = data  # the rest arrives
    assert c.read_all() == MQTTErrorCode.MQTT_ERR_SUCCESS
    assert c.sunk == [(f"{TOPIC}/big", payload, 4, 1), *expected]
    assert c.client._sock.pending() == 0
