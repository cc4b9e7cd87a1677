"""``labcal-cloud broker``: the embedded pure-Python MQTT broker (amqtt) that ``serve`` starts on
machines without a ``mosquitto`` binary.

amqtt speaks MQTT 3.1.1 only, so its clients (ingest, the demo's edge agents) then run with
``protocol = "3.1.1"`` (QoS 1, retained status and Last Will work; no shared subscriptions, so
one ingest worker). Listens on loopback only until SIGTERM or SIGINT.

Clients must give a user name (any name, no password: loopback only). amqtt keeps neither the
session nor the queued QoS 1 messages of an anonymous client, so without one a message published
while the ingest is reconnecting would be acked to the edge and lost.
"""

from __future__ import annotations

import asyncio
import logging
import signal

__all__ = ["broker_config", "serve_embedded_broker"]

log = logging.getLogger(__name__)


def broker_config(host: str, port: int) -> dict[str, object]:
    """amqtt's configuration: one plain TCP listener; clients named by a user name (so their
    persistent sessions and queued messages are kept), no password; no $SYS topics."""
    return {
        "listeners": {"default": {"type": "tcp", "bind": f"{host}:{port}"}},
        "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": False}},
    }


async def _serve(host: str, port: int) -> None:
    from amqtt.broker import Broker  # type: ignore[import-untyped]

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    broker = Broker(broker_config(host, port))
    await broker.start()
    print(f"broker: embedded amqtt listening on {host}:{port} (MQTT 3.1.1)", flush=True)
    await stop.wait()
    log.info("stopping the embedded broker")
    await broker.shutdown()


def serve_embedded_broker(host: str, port: int) -> int:
    asyncio.run(_serve(host, port))
    return 0
