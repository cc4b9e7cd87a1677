"""A test subscriber that collects every LabCal message of one tenant (persistent session)."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from labcal_shared.contracts import Envelope, decode, station_filter


class Collector:
    def __init__(self, url: str, tenant: str, *, kind: str = "+") -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 1883
        self.filter = station_filter(tenant, "+", kind)
        self.messages: list[Envelope] = []
        self.retained: list[Envelope] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"collector-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv5,
        )
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *a: self._subscribed.set()
        self.client.reconnect_delay_set(1, 1)

    def _on_connect(self, c: Any, u: Any, flags: Any, reason: Any, props: Any) -> None:
        c.subscribe(self.filter, qos=1)

    def _on_message(self, c: Any, u: Any, msg: Any) -> None:
        env = decode(msg.payload, topic=msg.topic)
        with self._lock:
            (self.retained if msg.retain else self.messages).append(env)

    def start(self) -> Collector:
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = 3600
        self.client.connect(self.host, self.port, clean_start=False, properties=props)
        self.client.loop_start()
        if not self._subscribed.wait(10):
            raise RuntimeError("subscription not acknowledged")
        return self

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def snapshot(self) -> list[Envelope]:
        with self._lock:
            return list(self.messages)

    def wait_for(self, predicate: Any, timeout: float = 20.0) -> list[Envelope]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.snapshot()
            if predicate(got):
                return got
            time.sleep(0.05)
        return self.snapshot()
