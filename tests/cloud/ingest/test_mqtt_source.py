"""The paho adapter's ack guard: a packet id is only acked on the connection that delivered it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from labcal_cloud.ingest.core import Incoming
from labcal_cloud.ingest.mqtt_source import MqttSource, MqttSourceConfig, subscription

NOW = datetime(2026, 11, 23, tzinfo=UTC)


def test_acks_of_an_earlier_connection_are_skipped():
    source = MqttSource(MqttSourceConfig())
    sent: list[tuple[int, int]] = []
    source._client.ack = lambda mid, qos: sent.append((mid, qos))  # the port to the broker
    source._connection = 2  # reconnected once since the first connection
    items = [
        Incoming("t", b"", NOW, mid=5, qos=1, connection=1),  # stale: the broker resends it
        Incoming("t", b"", NOW, mid=5, qos=1, connection=2),
        Incoming("t", b"", NOW, mid=6, qos=0, connection=2),  # QoS 0 needs no ack
    ]
    source.ack(items)
    assert sent == [(5, 1)]
    assert source.stale_acks == 1


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
