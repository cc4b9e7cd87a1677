"""``labcal-edge run``: the long-running station agent (composition root of the run mode).

One thread drains the outbox to MQTT (:class:`~labcal_edge.publisher.Publisher`); the main loop
polls the devices: smart-pipette counters and events, and balance readings when a balance has a
``poll_s``. Every message goes through the outbox. A device that fails is supervised back.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from functools import partial
from typing import Any

from labcal_edge import __version__
from labcal_edge.config import BalanceConfig, EdgeConfig
from labcal_edge.drivers.balance import BalanceDriver
from labcal_edge.drivers.pipette import PipetteDriver
from labcal_edge.emitter import Emitter
from labcal_edge.errors import DeviceTimeoutError, OutboxFullError
from labcal_edge.messages import StationIdentity, build_envelope, receipt_topic, status_payload
from labcal_edge.ntp import make_probe
from labcal_edge.outbox import Outbox
from labcal_edge.publisher import Publisher
from labcal_edge.readings import batched_value, reading_payload
from labcal_edge.station import Device, StationDevices, build_devices
from labcal_edge.supervisor import DEVICE_ERRORS
from labcal_edge.usage import UsageState, assess_usage
from labcal_edge.usage_store import UsageStore
from labcal_shared.contracts import (
    BatchedReading,
    DeviceEvent,
    DeviceEventType,
    Kind,
    ReadingBatch,
    StationState,
    UsageReport,
    UsageTrigger,
    build_topic,
    encode,
)

__all__ = ["Agent", "open_outbox"]

log = logging.getLogger("labcal_edge.agent")

_EVENT_TYPES = {
    "DROP": DeviceEventType.DROP,
    "ERROR": DeviceEventType.ERROR,
    "BATTERY": DeviceEventType.LOW_BATTERY,
    "SERVICE": DeviceEventType.SERVICE_RESET,
}
_TICK_S = 0.05


def open_outbox(config: EdgeConfig) -> Outbox:
    def alert(text: str) -> None:
        log.error("OUTBOX ALERT: %s", text)

    oc = config.outbox
    return Outbox(
        config.outbox_path,
        capacity=oc.capacity,
        policy=oc.policy,
        block_timeout_s=oc.block_timeout_s,
        synchronous=oc.synchronous,
        on_alert=alert,
    )


class Agent:
    def __init__(self, config: EdgeConfig, outbox: Outbox | None = None) -> None:
        self.config = config
        self.identity = StationIdentity(config.station.tenant, config.station.id)
        self.outbox = outbox or open_outbox(config)
        self.emitter = Emitter(self.identity, self.outbox, make_probe(config.clock.ntp))
        self.devices: StationDevices = build_devices(config, self._device_changed)
        self.publisher = Publisher(
            config.mqtt,
            config.client_id,
            self.outbox,
            self.status_message,
            receipt_topic=receipt_topic(self.identity),
        )
        self._usage: dict[str, UsageState] = {}
        self._usage_store = UsageStore(self.outbox.path)
        self._next_poll: dict[str, float] = {}
        self._batches: dict[str, list[BatchedReading]] = {}  # balance name -> values to send

    # -- status -------------------------------------------------------------------------------

    def status_message(self, online: bool) -> tuple[str, bytes]:
        now, quality = self.emitter.clock()
        payload = status_payload(
            StationState.ONLINE if online else StationState.OFFLINE,
            version=__version__,
            devices=[d.status() for d in self.devices.all()],
            outbox_depth=self.outbox.depth,
            outbox_capacity=self.outbox.capacity,
        )
        env = build_envelope(
            self.identity,
            seq=self.outbox.reserve_seq(),
            message_id=uuid.uuid4(),
            edge_time=now,
            clock=quality,
            payload=payload,
        )
        return build_topic(self.identity.tenant, self.identity.station, Kind.STATUS), encode(env)

    def _device_changed(self, device: Device[Any]) -> None:
        event = (
            DeviceEventType.CONNECTED
            if device.supervised.available
            else (DeviceEventType.DISCONNECTED)
        )
        try:
            self.emitter.emit(
                DeviceEvent(
                    event=event, detail=f"{device.config.name} on {device.config.port}"[:1000]
                ),
                device=device.ref,
            )
        except OutboxFullError as exc:  # refused like a reading; the outbox alerted already
            log.debug("%s: device event not stored: %s", device.config.name, exc)
        self.publisher.request_status()

    # -- main loop ------------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        net = threading.Thread(target=self.publisher.run, args=(stop,), name="mqtt", daemon=True)
        net.start()
        log.info(
            "station %s/%s running: %d balance(s), %d pipette(s); outbox %s (%d queued)",
            self.identity.tenant,
            self.identity.station,
            len(self.devices.balances),
            len(self.devices.pipettes),
            self.outbox.path,
            self.outbox.depth,
        )
        try:
            while not stop.is_set():
                self.tick(time.monotonic())
                stop.wait(_TICK_S)
        finally:
            stop.set()
            net.join(timeout=10)
            self.devices.close()
            self._usage_store.close()
            self.outbox.close()
            log.info("stopped")

    def tick(self, now: float) -> None:
        for pipette in self.devices.pipettes:
            if self._due(pipette.config.name, now, self.config.usage.poll_interval_s):
                self._guarded(pipette, partial(self._poll_pipette, pipette, now))
        for balance in self.devices.balances:
            cfg = balance.config
            assert isinstance(cfg, BalanceConfig)
            if cfg.poll_s is not None and self._due(cfg.name, now, cfg.poll_s):
                self._guarded(balance, partial(self._poll_balance, balance))

    def _guarded(self, device: Device[Any], poll: Callable[[], None]) -> None:
        """The supervisor loop's one broad except: a bug in one device's handling must not stop
        the agent; the device is closed and reopened like a failed one."""
        try:
            poll()
        except OutboxFullError as exc:  # refused, not dropped; the outbox alerts once per episode
            log.debug("%s: reading not stored: %s", device.config.name, exc)
        except Exception as exc:
            log.exception("%s: unexpected error; reopening the device", device.config.name)
            device.supervised.fail(exc)

    def _due(self, name: str, now: float, every: float) -> bool:
        if now < self._next_poll.get(name, 0.0):
            return False
        self._next_poll[name] = now + every
        return True

    def _poll_balance(self, device: Device[BalanceDriver]) -> None:
        if not device.supervised.ensure():
            return
        try:
            reading = device.driver.weigh(stable=False)
        except DeviceTimeoutError as exc:
            device.supervised.missed(exc)
            return
        except DEVICE_ERRORS as exc:
            device.supervised.fail(exc)
            return
        device.supervised.answered()
        size = device.config.batch if isinstance(device.config, BalanceConfig) else None
        if size is None:
            env = self.emitter.emit(reading_payload(reading), device=device.ref)
            log.debug("reading committed seq=%d id=%s", env.seq, env.message_id)
            return
        values = self._batches.setdefault(device.config.name, [])
        values.append(batched_value(reading, self.emitter.clock()[0]))
        if len(values) >= size:
            try:  # refused (outbox full) like a single reading would be: not kept
                env = self.emitter.emit(ReadingBatch(readings=list(values)), device=device.ref)
            finally:
                values.clear()
            log.debug("reading batch committed seq=%d id=%s", env.seq, env.message_id)

    def _poll_pipette(self, device: Device[PipetteDriver], now: float) -> None:
        if not device.supervised.ensure():
            return
        try:
            counters = device.driver.counters()
            events = device.driver.events()
        except DEVICE_ERRORS as exc:
            device.supervised.fail(exc)
            return
        ref = device.ref
        for event in events:
            detail = " ".join(f"{k}={v}" for k, v in event.fields.items())
            self.emitter.emit(
                DeviceEvent(event=_EVENT_TYPES[event.kind], code=str(event.seq), detail=detail),
                device=ref,
            )
        key = ref.serial
        last = self._usage.get(key)
        if last is None and (stored := self._usage_store.get(key)) is not None:
            # reported before the agent (re)started: compare with that, heartbeat due at once
            last = UsageState(stored[0], stored[1], -float("inf"))
        trigger = assess_usage(
            last, counters.total, counters.since_service, now, self.config.usage.periodic_s
        )
        if trigger is None:
            return
        if trigger is UsageTrigger.ROLLOVER:
            self.emitter.emit(DeviceEvent(event=DeviceEventType.COUNTER_ROLLOVER), device=ref)
        self.emitter.emit(
            UsageReport(
                cycles_total=counters.total,
                cycles_since_service=counters.since_service,
                trigger=trigger,
            ),
            device=ref,
        )
        self._usage[key] = UsageState(counters.total, counters.since_service, now)
        try:
            self._usage_store.put(key, counters.total, counters.since_service)
        except sqlite3.OperationalError as exc:  # a full disk: the report itself is committed
            log.warning("%s: counters not saved for restarts (%s)", device.config.name, exc)
