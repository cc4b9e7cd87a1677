"""The publisher on MQTT 3.1.1 (``[mqtt] protocol = "3.1.1"``, for brokers without MQTT 5 such as
the demo's embedded amqtt), against the real Mosquitto: every message arrives and leaves the
outbox after its PUBACK; status online, then offline on a clean stop."""

from __future__ import annotations

from pathlib import Path

import paho.mqtt.client as mqtt

from labcal_edge.emitter import Emitter
from labcal_edge.messages import StationIdentity
from labcal_edge.ntp import FixedProbe
from labcal_edge.outbox import Outbox
from labcal_edge.publisher import Publisher
from labcal_shared.contracts import StationState

from .subscriber import Collector
from .test_publisher import mqtt_config, readings, running, status_builder


def test_a_3_1_1_publisher_delivers_everything_and_says_online_then_offline(
    tmp_path: Path, mqtt_url: str, tenant_id: str
) -> None:
    identity = StationIdentity(tenant_id, "st1")
    outbox = Outbox(tmp_path / "o.sqlite3")
    emitter = Emitter(identity, outbox, FixedProbe(True))
    sent = readings(emitter, 50)
    collector = Collector(mqtt_url, tenant_id, kind="reading").start()
    status = Collector(mqtt_url, tenant_id, kind="status").start()
    config = mqtt_config(mqtt_url).model_copy(update={"protocol": "3.1.1"})
    try:
        publisher = Publisher(
            config, f"edge-{tenant_id}", outbox, status_builder(identity, emitter)
        )
        assert publisher._new_client()._protocol == mqtt.MQTTv311
        with running(publisher):
            sent += readings(emitter, 50, start=50)
            got = collector.wait_for(lambda m: len({str(e.message_id) for e in m}) >= 100)
            collector.wait_for(lambda m: outbox.depth == 0)  # the last PUBACKs
            online = status.wait_for(lambda m: len(m) >= 1)
            assert online[0].payload.state is StationState.ONLINE  # type: ignore[union-attr]
        assert {str(e.message_id) for e in got} == set(sent)
        assert outbox.depth == 0
        assert publisher.acked_total == 100
        offline = status.wait_for(lambda m: len(m) >= 2)
        assert offline[-1].payload.state is StationState.OFFLINE  # type: ignore[union-attr]
    finally:
        collector.stop()
        status.stop()
