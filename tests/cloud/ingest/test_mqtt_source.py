"""The paho adapter's ack guard: a packet id is only acked on the connection that delivered it."""

from __future__ import annotations

import select
import socket
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from labcal_cloud.ingest.core import Incoming
from labcal_cloud.ingest.mqtt_source import (
    MqttSource,
    MqttSourceConfig,
    _BufferedSocket,
    pubacks,
    subscription,
)

NOW = datetime(2026, 11, 23, tzinfo=UTC)


def test_acks_of_an_earlier_connection_are_skipped():
    source = MqttSource(MqttSourceConfig())
    queued: list[bytes] = []
    # the port to the broker: paho's outgoing packet queue
    source._client._packet_queue = lambda _cmd, packet, _mid, _qos: queued.append(bytes(packet))
    source._connection = 2  # reconnected once since the first connection
    items = [
        Incoming("t", b"", NOW, mid=5, qos=1, connection=1),  # stale: the broker resends it
        Incoming("t", b"", NOW, mid=5, qos=1, connection=2),
        Incoming("t", b"", NOW, mid=6, qos=0, connection=2),  # QoS 0 needs no ack
        Incoming("t", b"", NOW, mid=7, qos=1, connection=2),
    ]
    source.ack(items)
    assert queued == [pubacks([5, 7])]  # one write for the whole batch
    assert source.stale_acks == 1


def test_bulk_pubacks_are_the_bytes_paho_sends_per_message():
    sent: list[bytes] = []
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
    client._packet_queue = lambda _cmd, packet, _mid, _qos: sent.append(bytes(packet))
    client._manual_ack = True
    mids = [1, 255, 256, 65535]
    for mid in mids:
        client.ack(mid, 1)
    assert pubacks(mids) == b"".join(sent)
    assert pubacks([1]) == bytes([0x40, 2, 0, 1])


@pytest.mark.parametrize(
    ("group", "tenant", "expected"),
    [
        ("ingest", "+", "$share/ingest/labcal/v1/+/+/+"),
        ("g1", "acme", "$share/g1/labcal/v1/acme/+/+"),
    ],
)
def test_subscription_filter(group, tenant, expected):
    assert subscription(group, tenant) == expected


@pytest.mark.parametrize(("group", "tenant"), [("a/b", "+"), ("g", "#"), ("g", "a+"), ("", "+")])
def test_subscription_refuses_wildcards_in_names(group, tenant):
    with pytest.raises(ValueError, match="invalid"):
        subscription(group, tenant)


def test_buffered_socket_serves_small_reads_from_one_large_read():
    ours, broker = socket.socketpair()
    with ours, broker:
        ours.setblocking(False)
        sock = _BufferedSocket(ours)
        assert sock.fileno() == ours.fileno()  # select() and the rest go to the socket
        with pytest.raises(BlockingIOError):  # nothing to read: paho's "try again"
            sock.recv(1)
        broker.sendall(b"abcdef")
        select.select([ours], [], [], 10)  # the bytes have arrived
        assert sock.recv(1) == b"a"
        assert sock.pending() == 5  # paho then skips waiting in select()
        assert sock.recv(2) == b"bc"
        assert sock.recv(10) == b"def"  # a short read, as a socket may give
        assert sock.pending() == 0
        broker.sendall(b"gh")
        select.select([ours], [], [], 10)
        assert sock.recv(5) == b"gh"
        broker.close()
        select.select([ours], [], [], 10)
        assert sock.recv(1) == b""  # closed by the broker


def test_a_batch_stops_at_its_byte_budget_and_the_next_one_starts_with_the_rest():
    source = MqttSource(MqttSourceConfig())
    sizes = [400, 400, 300, 5000, 10, 10]
    for i, n in enumerate(sizes):
        source._queue.put(Incoming("t", bytes(n), NOW, mid=i + 1))
    take = lambda: [len(i.payload) for i in source.next_batch(100, 0, max_bytes=1000)]  # noqa: E731
    assert take() == [400, 400]  # 300 more would cross 1000: it waits for the next batch
    assert take() == [300]
    assert take() == [5000]  # larger than the budget on its own: taken alone
    assert take() == [10, 10]
    assert source.next_batch(100, 0, max_bytes=1000) == []
    for i in range(5):
        source._queue.put(Incoming("t", b"x", NOW, mid=i + 1))
    assert len(source.next_batch(3, 0, max_bytes=1000)) == 3  # the count limit still holds
    assert len(source.next_batch(3, 0, max_bytes=1000)) == 2
