"""The ingest source on MQTT 3.1.1 (for brokers without MQTT 5, e.g. the demo's embedded amqtt):
a plain subscription (no ``$share``), QoS 1 messages delivered and acked, a persistent session."""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from labcal_cloud.ingest.mqtt_source import MqttSource, MqttSourceConfig
from labcal_cloud.settings import Settings, SettingsError


def test_a_3_1_1_source_receives_qos1_messages_on_a_plain_subscription(
    mqtt_url: str, tenant_id: str
) -> None:
    source = MqttSource(
        MqttSourceConfig(
            url=mqtt_url,
            client_id=f"ingest-{tenant_id}",
            tenant_filter=tenant_id,
            protocol="3.1.1",
        )
    )
    assert source._filter == f"labcal/v1/{tenant_id}/+/+"
    assert source._client._protocol == mqtt.MQTTv311
    source.start()
    try:
        parts = urlsplit(mqtt_url)
        published = threading.Event()
        pub = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
        pub.on_publish = lambda *_a: published.set()
        pub.connect(parts.hostname or "127.0.0.1", parts.port or 1883)
        pub.loop_start()
        pub.publish(f"labcal/v1/{tenant_id}/st-1/usage", b'{"x":1}', qos=1)
        assert published.wait(10)
        pub.disconnect()
        pub.loop_stop()
        batch = source.next_batch(10, 10.0)
        assert [(i.topic, i.payload, i.qos) for i in batch] == [
            (f"labcal/v1/{tenant_id}/st-1/usage", b'{"x":1}', 1)
        ]
        source.ack(batch)
        assert source.stale_acks == 0
    finally:
        source.close()


def test_an_unknown_protocol_is_refused() -> None:
    with pytest.raises(ValueError, match="must be 5 or 3"):
        MqttSource(MqttSourceConfig(protocol="4"))
    with pytest.raises(SettingsError, match="LABCAL_MQTT_PROTOCOL"):
        Settings.from_env({"LABCAL_MQTT_PROTOCOL": "3"})
    assert Settings.from_env({}).mqtt_protocol == "5"
    assert Settings.from_env({"LABCAL_MQTT_PROTOCOL": "3.1.1"}).mqtt_protocol == "3.1.1"
