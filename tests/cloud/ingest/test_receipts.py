"""Storage receipts: after the commit, ingest names the stored messages to their station (real
broker, both databases); its own receipts, which its subscription matches, are not stored."""

from __future__ import annotations

import threading
import uuid
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from labcal_cloud.ingest.core import Incoming, build_batch
from labcal_cloud.ingest.receipts import receipts_of
from labcal_cloud.storage.ports import WriteResult
from labcal_cloud.storage.rows import Batch
from labcal_shared.contracts import Kind, build_topic
from labcal_shared.contracts.receipts import decode_receipt


class ReceiptListener:
    def __init__(self, url: str, topic: str) -> None:
        parts = urlsplit(url)
        self.pairs: list[tuple[int, str]] = []
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"rcpt-{uuid.uuid4().hex[:8]}"
        )
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *a: subscribed.set()
        self.client.on_connect = lambda c, *a: c.subscribe(topic, qos=1)
        self.client.on_message = self._on_message
        self.client.connect(parts.hostname or "127.0.0.1", parts.port or 1883)
        self.client.loop_start()
        assert subscribed.wait(10)

    def _on_message(self, c: Any, u: Any, msg: Any) -> None:
        self.pairs += decode_receipt(msg.payload)

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_stored_messages_and_redeliveries_are_named_in_receipts(
    store, messages, publisher, start_worker, wait, mqtt_url
):
    listener = ReceiptListener(mqtt_url, build_topic(messages.tenant, messages.station, Kind.CMD))
    try:
        worker = start_worker()
        envs = [messages.reading(float(i)) for i in range(30)] + [messages.usage(7)]
        status = messages.status()
        publisher.publish([messages.wire(e) for e in [*envs, status]])
        want = {(e.seq, e.message_id.hex) for e in envs}
        wait(lambda: set(listener.pairs) >= want, what="receipts for all")
        assert store.count("messages", messages.tenant) == len(envs) + 1
        # a redelivery (the edge sends again when a receipt did not come) is named again
        publisher.publish([messages.wire(envs[0])])
        wait(lambda: len(listener.pairs) >= len(envs) + 1, what="receipt for the redelivery")
        assert listener.pairs.count((envs[0].seq, envs[0].message_id.hex)) == 2
        assert (status.seq, status.message_id.hex) not in listener.pairs  # not in an outbox
        assert store.count("messages", messages.tenant) == len(envs) + 1
        # the worker received its own receipts (its subscription matches …/cmd): not stored,
        # not quarantined
        wait(lambda: worker.metrics.get("cloud_answers_skipped") >= 2, what="own receipts seen")
        assert store.count("quarantine", messages.tenant) == 0
    finally:
        listener.stop()


def test_receipts_leave_out_conflicts_and_status_and_group_by_station(messages) -> None:
    envs = [messages.reading(1.0), messages.status(), messages.reading(2.0)]
    items = [
        Incoming(*messages.wire(e), received_at=e.edge_time, mid=i, qos=1, connection=1)
        for i, e in enumerate(envs)
    ]
    batch, _ = build_batch(items, lambda station: messages.tenant)
    result = WriteResult(stored=2, duplicates=0, quarantined=0, conflicts=(envs[2].message_id,))
    got = receipts_of(batch, result)
    topic = build_topic(messages.tenant, messages.station, Kind.CMD)
    assert got == {topic: [(envs[0].seq, envs[0].message_id.hex)]}
    assert receipts_of(Batch(), WriteResult(0, 0, 0)) == {}
