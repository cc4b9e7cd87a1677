"""``labcal-cloud broker`` (amqtt, MQTT 3.1.1) as serve's clients use it: a named client's
persistent session (and its subscription) is kept when it comes back, QoS 1 is acknowledged and
delivered, SIGTERM stops the broker cleanly."""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from labcal_cloud.serve.broker import free_port, wait_port


def _client(
    port: int, client_id: str, got: queue.SimpleQueue[bytes], subscribe: bool
) -> mqtt.Client:
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=mqtt.MQTTv311,
        clean_session=False,
    )
    client.username_pw_set(client_id)  # amqtt keeps the sessions of named clients only

    def on_connect(c: mqtt.Client, _u: Any, flags: Any, _rc: Any, _p: Any) -> None:
        got.put(b"session present" if flags.session_present else b"new session")
        if subscribe:
            c.subscribe("labcal/v1/t1/+/+", qos=1)

    client.on_connect = on_connect
    client.on_subscribe = lambda *_a: got.put(b"subscribed")
    client.on_message = lambda _c, _u, msg: got.put(bytes(msg.payload))
    client.connect("127.0.0.1", port)
    client.loop_start()
    return client


def _close(client: mqtt.Client) -> None:
    client.disconnect()
    client.loop_stop()


def test_a_named_session_keeps_its_subscription_and_sigterm_stops_the_broker() -> None:
    port = free_port()
    cloud = str(Path(sys.executable).parent / "labcal-cloud")
    broker = subprocess.Popen(
        [cloud, "broker", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert wait_port("127.0.0.1", port, 30), "the embedded broker did not listen"
        ingest_got: queue.SimpleQueue[bytes] = queue.SimpleQueue()
        ingest = _client(port, "demo-ingest", ingest_got, subscribe=True)
        assert ingest_got.get(timeout=10) == b"new session"
        assert ingest_got.get(timeout=10) == b"subscribed"
        _close(ingest)
        # the worker comes back (a new process): same client id, no new SUBSCRIBE
        again_got: queue.SimpleQueue[bytes] = queue.SimpleQueue()
        again = _client(port, "demo-ingest", again_got, subscribe=False)
        assert again_got.get(timeout=10) == b"session present"
        edge_got: queue.SimpleQueue[bytes] = queue.SimpleQueue()
        edge = _client(port, "st1", edge_got, subscribe=False)
        assert edge_got.get(timeout=10) == b"new session"
        info = edge.publish("labcal/v1/t1/st1/usage", b"usage", qos=1)
        info.wait_for_publish(10)  # the broker's PUBACK
        assert info.is_published()
        assert again_got.get(timeout=10) == b"usage"  # delivered on the kept subscription
        _close(again)
        _close(edge)
        broker.send_signal(signal.SIGTERM)
        assert broker.wait(30) == 0
    finally:
        if broker.poll() is None:
            broker.kill()
            broker.wait()
        assert broker.stdout is not None
        output = broker.stdout.read()
        broker.stdout.close()
    assert f"embedded amqtt listening on 127.0.0.1:{port}" in output
