"""The paho-mqtt adapter of the ingest :class:`~labcal_cloud.ingest.loop.Source`.

MQTT 5, a persistent session (``clean_start=False`` plus a session expiry) and manual acks: a
message is acked only when the loop says its batch is committed, so if the worker dies the broker
redelivers everything unacked to the same client id when it comes back.

``protocol="3.1.1"`` is for brokers without MQTT 5 (e.g. the demo's embedded amqtt): a persistent
session is ``clean_session=False`` and the filter is a plain one (no ``$share``), so only one
worker may run per group.

Received QoS 0/1 PUBLISH packets take a lean path: ``_BufferedClient.loop_read`` takes every
whole packet of a socket read at once, and a PUBLISH's topic, payload and packet id go straight
to the queue as an :class:`Incoming`, without paho's per-packet reader, message object, property
decoding or callback dispatch; anything else is paho's own handling. Draining a backlog without
a database (150,000 single-reading messages, MQTT 5): ~49,000 msg/s and 22 µs of CPU a message
with paho's reader, ~420,000 msg/s and 2.3 µs with the bulk read.
"""

from __future__ import annotations

import logging
import queue
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from labcal_cloud.ingest.core import Incoming
from labcal_cloud.ingest.limits import MAX_BATCH_BYTES
from labcal_cloud.ingest.mqtt_packets import (  # re-exported: the lean path's codec
    CUT_OFF,
    PUBACK,
    PUBLISH,
    TOO_LONG,
    parse_publish,
    pubacks,
    variable_int,
)

__all__ = [
    "CUT_OFF",
    "PUBLISH",
    "TOO_LONG",
    "MqttSource",
    "MqttSourceConfig",
    "parse_publish",
    "pubacks",
    "subscription",
    "variable_int",
]

log = logging.getLogger(__name__)


def subscription(group: str, tenant_filter: str = "+") -> str:
    """The shared-subscription filter of an ingest group, e.g. ``$share/ingest/labcal/v1/+/+/+``."""
    for value, what in ((group, "group"), (tenant_filter, "tenant filter")):
        if not value or any(c in value for c in "/#") or ("+" in value and value != "+"):
            raise ValueError(f"invalid {what} {value!r}")
    return f"$share/{group}/labcal/v1/{tenant_filter}/+/+"


@dataclass(frozen=True, slots=True)
class MqttSourceConfig:
    url: str = "mqtt://127.0.0.1:1883"
    client_id: str = "labcal-ingest-1"
    group: str = "ingest"
    tenant_filter: str = "+"
    session_expiry_s: int = 3600
    receive_maximum: int = 10_000
    username: str | None = None
    password: str | None = None
    ca_file: str | None = None
    protocol: str = "5"  # or "3.1.1"


class MqttSource:
    def __init__(self, config: MqttSourceConfig) -> None:
        self.config = config
        self._queue: queue.SimpleQueue[Incoming] = queue.SimpleQueue()
        self._held: Incoming | None = None  # taken from the queue, opens the next batch
        self._closing = False
        self.connected = threading.Event()
        # Packet ids are per connection: after a reconnect the broker resends unacked messages
        # (same ids) and may reuse ids for new ones, so an ack for a message of an earlier
        # connection could acknowledge a different, uncommitted message. Such acks are skipped;
        # the resent copy is stored (as a duplicate) and acked on the connection that sent it.
        self._connection = 0
        self._ack_lock = threading.Lock()
        self.stale_acks = 0
        self.subscribed = threading.Event()
        if config.protocol not in ("5", "3.1.1"):
            raise ValueError(f"MQTT protocol must be 5 or 3.1.1, got {config.protocol!r}")
        self._v5 = config.protocol == "5"
        client = _BufferedClient(
            CallbackAPIVersion.VERSION2,
            client_id=config.client_id,
            protocol=MQTTProtocolVersion.MQTTv5 if self._v5 else MQTTProtocolVersion.MQTTv311,
            clean_session=None if self._v5 else False,
            manual_ack=True,
        )
        if config.username is not None:
            client.username_pw_set(config.username, config.password)
        parts = urlsplit(config.url)
        if parts.scheme == "mqtts" or config.ca_file:
            client.tls_set(ca_certs=config.ca_file, tls_version=ssl.PROTOCOL_TLS_CLIENT)
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message  # QoS 2 and whatever the lean path leaves to paho
        client.publish_sink = self._on_publish
        limit = max(1, config.receive_maximum)
        client.read_paused = lambda: self._queue.qsize() >= limit
        client.reconnect_delay_set(min_delay=1, max_delay=10)
        self._client = client
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or (8883 if parts.scheme == "mqtts" else 1883)
        self._filter = subscription(config.group, config.tenant_filter)
        if not self._v5:  # no shared subscriptions before MQTT 5
            self._filter = self._filter.split("/", 2)[2]

    def start(self, timeout_s: float = 10.0) -> None:
        if not self._v5:
            self._client.connect(self._host, self._port, keepalive=30)
        else:
            self._connect_v5()
        self._client.loop_start()
        if not self.subscribed.wait(timeout_s):
            self.close()
            raise ConnectionError(f"no subscription on {self.config.url} within {timeout_s}s")

    def _connect_v5(self) -> None:
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = self.config.session_expiry_s
        props.ReceiveMaximum = self.config.receive_maximum
        self._client.connect(
            self._host, self._port, keepalive=30, clean_start=False, properties=props
        )

    def publish(self, topic: str, payload: bytes) -> None:
        """Send a message (QoS 1) on this worker's connection, e.g. a storage receipt; paho
        queues it while disconnected (lost if the worker stops first: receipts are resent)."""
        self._client.publish(topic, payload, qos=1)

    def close(self) -> None:
        self._closing = True
        self._client.disconnect()
        self._client.loop_stop()

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, rc: Any, _p: Any) -> None:
        if rc.is_failure:
            log.error("MQTT connect refused: %s", rc)
            return
        with self._ack_lock:
            self._connection += 1
        self.connected.set()
        client.subscribe(self._filter, qos=1)

    def _on_subscribe(self, _c: mqtt.Client, _u: Any, _mid: int, rcs: Any, _p: Any) -> None:
        if all(not rc.is_failure for rc in rcs):
            self.subscribed.set()
        else:
            log.error("subscription to %s refused: %s", self._filter, rcs)

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, rc: Any, _p: Any) -> None:
        self.connected.clear()
        if self._closing:
            log.info("MQTT disconnected (%s)", rc)
        else:
            log.warning("MQTT disconnected (%s); paho reconnects", rc)

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        """What paho's own PUBLISH handling delivers (QoS 2, or with the lean path off)."""
        self._on_publish(msg.topic, bytes(msg.payload), msg.mid, msg.qos)

    def _on_publish(self, topic: str, payload: bytes, mid: int, qos: int) -> None:
        """Queue one received message (the lean path's sink, and ``_on_message``'s)."""
        self._queue.put(Incoming(topic, payload, datetime.now(UTC), mid, qos, self._connection))

    def next_batch(
        self, max_items: int, timeout_s: float, max_bytes: int = MAX_BATCH_BYTES
    ) -> list[Incoming]:
        """Up to ``max_items`` messages and ``max_bytes`` of payload (a first message larger
        than that comes alone); the message that would cross the limit opens the next batch."""
        first = self._held
        self._held = None
        if first is None:
            try:
                first = self._queue.get(timeout=timeout_s)
            except queue.Empty:
                return []
        items = [first]
        size = len(first.payload)
        get = self._queue.get_nowait
        try:
            while len(items) < max_items:
                item = get()
                size += len(item.payload)
                if size > max_bytes:
                    self._held = item
                    break
                items.append(item)
        except queue.Empty:
            pass
        return items

    def ack(self, items: Sequence[Incoming]) -> None:
        """Ack the items of the current connection; count the others in ``stale_acks``.

        The PUBACKs of a batch go out as one write: paho's ``ack`` queues one packet and wakes
        its network thread once per message, which cost about as much as validating it.
        """
        stale = 0
        with self._ack_lock:
            current = self._connection
            mids = []
            for item in items:
                if item.connection != current:
                    stale += 1
                elif item.qos == 1:
                    mids.append(item.mid)
                elif item.qos == 2:
                    self._client.ack(item.mid, item.qos)
            if mids:
                _queue_pubacks(self._client, mids)
            self.stale_acks += stale


_PAUSE_S = 0.002


class _BufferedSocket:
    """The broker socket with a read buffer: paho reads a PUBLISH in 3-4 small ``recv`` calls
    (type byte, length bytes, body) after a ``select`` each; this serves them from one large
    read. ``pending()`` tells paho's loop that buffered bytes are ready (it then skips waiting
    in ``select``, as it does for TLS records); everything else is the socket's own.

    :meth:`_BufferedClient.loop_read` also takes whole packets straight from the buffer
    (``buf``/``pos``), filled by :meth:`fill`; a partial packet left at its end is not
    ``pending()``: it waits for the socket.
    """

    _READ_SIZE = 256 * 1024

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self.buf = b""
        self.pos = 0
        self.partial = False  # what is left of buf is only the start of a packet

    def recv(self, bufsize: int) -> bytes:
        if self.pos >= len(self.buf):
            data = self._sock.recv(max(bufsize, self._READ_SIZE))  # may raise BlockingIOError
            if len(data) <= bufsize:
                return bytes(data)
            self.buf, self.pos, self.partial = data, 0, False
        end = self.pos + bufsize
        out = self.buf[self.pos : end]
        self.pos = min(end, len(self.buf))
        return out

    def fill(self) -> int:
        """Read what the socket has behind the unread bytes: the number of bytes read, 0 when
        the peer has closed. Raises what the socket's ``recv`` raises (``BlockingIOError``, or
        ``ssl.SSLWantReadError``, when nothing is ready)."""
        data = self._sock.recv(self._READ_SIZE)
        if data:
            rest = self.buf[self.pos :] if self.pos < len(self.buf) else b""
            self.buf, self.pos, self.partial = rest + data if rest else data, 0, False
        return len(data)

    def pending(self) -> int:
        inner = self._sock.pending() if hasattr(self._sock, "pending") else 0
        return (0 if self.partial else len(self.buf) - self.pos) + int(inner)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


PublishSink = Callable[[str, bytes, int, int], None]
"""Receives (topic, payload, packet id, QoS) of a PUBLISH taken by the lean path."""


class _BufferedClient(mqtt.Client):
    """paho's client with a buffered socket (:class:`_BufferedSocket`) and a lean PUBLISH path.

    A profile of a worker draining a backlog of single-reading messages spent about 55% of its
    GIL time in paho's handling of a received PUBLISH: ``decode_publish`` (a ``struct.unpack``
    per field and a ``Properties`` object built and unpacked even when there are none), the
    ``MQTTMessage``, a debug ``_easy_log`` call, then ``_handle_on_message`` (topic matching
    over the message callbacks, the callback mutexes) before ``on_message`` built the
    :class:`Incoming` the ingest loop needs. With ``publish_sink`` set, ``_handle_publish``
    instead parses a QoS 0 or 1 PUBLISH itself (:func:`parse_publish`: topic, packet id, the
    MQTT 5 properties skipped whole) and hands (topic, payload, packet id, QoS) to the sink.

    What the lean path leaves out: the MQTT 5 properties are not decoded (nor validated: the
    ingest reads none of them, and it never sets ``TopicAliasMaximum``, so the broker sends no
    topic aliases), no debug log line, no ``message_callback_add`` callbacks (the source has
    none). PUBACKs are as in paho: none here with ``manual_ack=True`` (the source acks after the
    commit), one per QoS 1 message without. QoS 2, a packet it cannot parse (too short, a bad
    properties length, an empty or non-UTF-8 topic) and a client without a sink get paho's own
    ``_handle_publish``, errors and ``on_message`` included. Measured on a 50,000-message
    backlog (MQTT 5, 360-byte payloads, ``next_batch`` + ``ack``, no database): about 2x the
    messages per second; ``_handle_publish`` itself costs 2.4 instead of 33 µs a message.
    """

    publish_sink: PublishSink | None = None
    read_paused: Callable[[], bool] | None = None
    """While it returns True, the lean path leaves the socket unread (the broker's pushes wait
    in TCP and in the broker). Mosquitto 2.0.11 sends a client more unacknowledged QoS 1
    messages than its Receive Maximum (a client with Receive Maximum 100 that acks as it goes
    held 41,558), so a backlog flowed into the worker's queue: peak RSS 433 MiB on 1,000,000."""

    def _create_socket(self) -> Any:
        return _BufferedSocket(super()._create_socket())

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        """Take every whole packet the socket has: QoS 0/1 PUBLISH packets straight to the sink
        (:func:`parse_publish`), any other packet through paho's ``_packet_read``.

        paho's own ``loop_read`` handles one packet per pass of its network loop (a ``select``,
        three or four ``recv`` calls, the keepalive check); a backlog arrives hundreds of
        packets per read. Without a sink, or mid-packet in paho's reader, it is paho's.
        """
        sock = self._sock
        sink = self.publish_sink
        if sink is None or type(sock) is not _BufferedSocket or self._in_packet["command"]:
            return super().loop_read(max_packets)
        paused = self.read_paused
        if paused is not None and paused():
            # not reading on purpose: paho must not take the unread PINGRESP for a dead broker
            # (it still sends acks and PINGREQs meanwhile, and a dead socket fails on write)
            with self._msgtime_mutex:
                self._last_bytes_received = mqtt.time_func()
            time.sleep(_PAUSE_S)
            return MQTTErrorCode.MQTT_ERR_SUCCESS
        try:
            got = sock.fill()
        except (BlockingIOError, ssl.SSLWantReadError):
            got = -1  # nothing new: take what is buffered
        except ssl.SSLWantWriteError:
            self._call_socket_register_write()  # as paho's own read does
            got = -1
        except OSError as err:
            log.error("failed to receive on the MQTT socket: %s", err)
            return self._loop_rc_handle(MQTTErrorCode.MQTT_ERR_CONN_LOST)
        if got > 0:
            with self._msgtime_mutex:
                self._last_bytes_received = mqtt.time_func()
        rc = self._take_packets(sock, sink)
        if rc <= 0 and got == 0:
            rc = MQTTErrorCode.MQTT_ERR_CONN_LOST  # the broker closed the connection
        if rc > 0:
            return self._loop_rc_handle(rc)
        return MQTTErrorCode.MQTT_ERR_SUCCESS  # or MQTT_ERR_AGAIN: wait for more bytes

    def _take_packets(self, sock: _BufferedSocket, sink: PublishSink) -> MQTTErrorCode:
        """Handle the whole packets in ``sock``'s buffer; a partial one stays for the next read."""
        v5 = self._protocol == MQTTProtocolVersion.MQTTv5
        puback = not self._manual_ack
        buf, pos = sock.buf, sock.pos
        end = len(buf)
        while pos < end:
            command = buf[pos]
            length, start = variable_int(buf, pos + 1, end)  # the remaining length
            if start == TOO_LONG:  # paho's reader reports the protocol error
                sock.pos = pos
                return self._packet_read()
            if start == CUT_OFF:
                break
            stop = start + length
            if stop > end:
                break
            parsed = None
            if command & 0xF0 == PUBLISH:
                parsed = parse_publish(command, buf[start:stop], v5)
            if parsed is None:  # not a PUBLISH, QoS 2, or malformed: paho's reader and handler
                sock.pos = pos
                rc = self._packet_read()
                if rc != MQTTErrorCode.MQTT_ERR_SUCCESS or self._sock is not sock:
                    return rc
                buf, pos = sock.buf, sock.pos
                end = len(buf)
                continue
            pos = stop
            topic, payload, mid, qos = parsed
            sink(topic, payload, mid, qos)
            if qos == 1 and puback:
                self._send_puback(mid)
        sock.pos = pos
        sock.partial = pos < end
        return MQTTErrorCode.MQTT_ERR_SUCCESS

    def _handle_publish(self) -> MQTTErrorCode:
        sink = self.publish_sink
        if sink is not None:
            in_packet = self._in_packet
            parsed = parse_publish(
                in_packet["command"],
                in_packet["packet"],
                self._protocol == MQTTProtocolVersion.MQTTv5,
            )
            if parsed is not None:
                topic, payload, mid, qos = parsed
                sink(topic, payload, mid, qos)
                if qos == 1 and not self._manual_ack:
                    return self._send_puback(mid)
                return MQTTErrorCode.MQTT_ERR_SUCCESS
        return super()._handle_publish()


def _queue_pubacks(client: mqtt.Client, mids: Sequence[int]) -> None:
    """Queue the PUBACKs of ``mids`` on paho's outgoing packet queue as one packet.

    Exactly the bytes ``client.ack(mid, 1)`` would queue per message, sent in order on the
    current connection by paho's network thread (one wake-up, one socket write).
    """
    client._packet_queue(PUBACK, pubacks(mids), 0, 1)
