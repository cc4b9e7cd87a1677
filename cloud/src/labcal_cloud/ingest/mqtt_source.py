"""The paho-mqtt adapter of the ingest :class:`~labcal_cloud.ingest.loop.Source`.

MQTT 5, a persistent session (``clean_start=False`` plus a session expiry) and manual acks: a
message is acked only when the loop says its batch is committed, so if the worker dies the broker
redelivers everything unacked to the same client id when it comes back.

``protocol="3.1.1"`` is for brokers without MQTT 5 (e.g. the demo's embedded amqtt): a persistent
session is ``clean_session=False`` and the filter is a plain one (no ``$share``), so only one
worker may run per group.
"""

from __future__ import annotations

import logging
import queue
import ssl
import struct
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from labcal_cloud.ingest.core import Incoming

__all__ = ["MqttSource", "MqttSourceConfig", "pubacks", "subscription"]

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
        client.on_message = self._on_message
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

    def close(self) -> None:
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
        log.warning("MQTT disconnected (%s); paho reconnects", rc)

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        payload = bytes(msg.payload)
        self._queue.put(
            Incoming(msg.topic, payload, datetime.now(UTC), msg.mid, msg.qos, self._connection)
        )

    def next_batch(self, max_items: int, timeout_s: float) -> list[Incoming]:
        try:
            first = self._queue.get(timeout=timeout_s)
        except queue.Empty:
            return []
        items = [first]
        get = self._queue.get_nowait
        try:
            while len(items) < max_items:
                items.append(get())
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


class _BufferedSocket:
    """The broker socket with a read buffer: paho reads a PUBLISH in 3-4 small ``recv`` calls
    (type byte, length bytes, body) after a ``select`` each; this serves them from one large
    read. ``pending()`` tells paho's loop that buffered bytes are ready (it then skips waiting
    in ``select``, as it does for TLS records); everything else is the socket's own.
    """

    _READ_SIZE = 256 * 1024

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self._buf = b""
        self._pos = 0

    def recv(self, bufsize: int) -> bytes:
        if self._pos >= len(self._buf):
            data = self._sock.recv(max(bufsize, self._READ_SIZE))  # may raise BlockingIOError
            if len(data) <= bufsize:
                return bytes(data)
            self._buf, self._pos = data, 0
        end = self._pos + bufsize
        out = self._buf[self._pos : end]
        self._pos = min(end, len(self._buf))
        return out

    def pending(self) -> int:
        inner = self._sock.pending() if hasattr(self._sock, "pending") else 0
        return len(self._buf) - self._pos + int(inner)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class _BufferedClient(mqtt.Client):
    def _create_socket(self) -> Any:
        return _BufferedSocket(super()._create_socket())


_PUBACK = 0x40  # MQTT control packet type PUBACK; remaining length 2 = packet id, reason 0


def pubacks(mids: Sequence[int]) -> bytes:
    """The bytes of one PUBACK per packet id, concatenated (MQTT 3.1.1 and 5 alike)."""
    return struct.pack(f"!{len(mids)}I", *((_PUBACK << 24) | (2 << 16) | mid for mid in mids))


def _queue_pubacks(client: mqtt.Client, mids: Sequence[int]) -> None:
    """Queue the PUBACKs of ``mids`` on paho's outgoing packet queue as one packet.

    Exactly the bytes ``client.ack(mid, 1)`` would queue per message, sent in order on the
    current connection by paho's network thread (one wake-up, one socket write).
    """
    client._packet_queue(_PUBACK, pubacks(mids), 0, 1)
