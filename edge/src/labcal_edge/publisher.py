"""The MQTT publisher: drains the outbox to the broker with QoS 1 (MQTT 5, paho-mqtt 2.x).

A message leaves the outbox only when its PUBACK arrives. Each connection gets a fresh paho client
and starts again from the oldest stored message, so everything not acknowledged before a
disconnect (or a kill -9) is sent again; duplicates are possible and carry the same message id.
The outbox is read in batches and up to ``max_inflight`` messages are in flight, which keeps a
backlog draining at broker speed. Reconnects use capped, jittered backoff. The station status is
published retained on every connect, periodically, and as ``offline`` on a clean stop; the Last
Will publishes ``offline`` when the agent vanishes.

A PUBACK with reason code 0x10 "No matching subscribers" is *not* a delivery: the broker dropped
the message (Mosquitto 2.0 does not restore shared subscriptions after a restart, so until the
ingest workers subscribe again nobody takes it). It stays in the outbox and is sent again after
``no_subscriber_retry_s``. With ``storage_receipts`` a PUBACK only means "the broker holds it":
the message stays until the cloud's storage receipt (on the station's ``cmd`` topic) names it,
and is sent again after ``receipt_timeout_s`` (doubling) without one; see
:mod:`labcal_edge.awaiting` and :mod:`labcal_shared.contracts.receipts`.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from labcal_edge.awaiting import AwaitingReceipts
from labcal_edge.backoff import Backoff, backoff_delay
from labcal_edge.config import MqttConfig
from labcal_edge.errors import OutboxFullError
from labcal_edge.outbox import Outbox, StoredMessage
from labcal_shared.contracts.receipts import decode_receipt
from labcal_shared.errors import ContractError

__all__ = ["Publisher", "StatusMessage"]

log = logging.getLogger(__name__)

#: Builds a retained station status message: (topic, payload bytes); ``online`` says which state.
StatusMessage = Callable[[bool], tuple[str, bytes]]

_CONNACK_TIMEOUT_S = 15.0
_POISON_DROPS = 3  # drops in a row with the same message alone in flight
_PROBE_ACKS = 20  # acknowledgements that end the one-at-a-time mode
NO_MATCHING_SUBSCRIBERS = 0x10  # PUBACK reason code: accepted, but nobody received it
_RESENDS_WARNED = 5  # a message sent again this often gets a warning (once)


class Publisher:
    def __init__(
        self,
        config: MqttConfig,
        client_id: str,
        outbox: Outbox,
        status: StatusMessage | None = None,
        rand: Callable[[], float] = random.random,
        receipt_topic: str | None = None,
    ) -> None:
        """``receipt_topic``: where the cloud's storage receipts come (the station's ``cmd``
        topic); required when ``config.storage_receipts`` is set."""
        if config.storage_receipts and receipt_topic is None:
            raise ValueError("storage_receipts needs the receipt topic (the station's cmd topic)")
        self._cfg = config
        self._client_id = client_id
        self._outbox = outbox
        self._status = status
        self._rand = rand
        self._backoff = Backoff(config.reconnect_base_s, config.reconnect_cap_s, 0.5)
        self.connected = threading.Event()
        self.acked_total = 0
        self.published_total = 0
        self._status_due = threading.Event()
        self._window = config.max_inflight
        self._suspect: int | None = None
        self._suspect_drops = 0
        self._receipt_topic = receipt_topic if config.storage_receipts else None
        self.awaiting = AwaitingReceipts()  # sent, not confirmed: sent again when due
        self.confirmed_total = 0  # messages deleted on a storage receipt
        self.no_subscriber_total = 0  # PUBACKs "no matching subscribers" (kept, sent again)

    def request_status(self) -> None:
        """Publish the station status at the next opportunity (e.g. a device came or went)."""
        self._status_due.set()

    # -- the network thread ------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Connect, drain, reconnect until ``stop`` is set; then say offline and disconnect."""
        attempt = 0
        outage_logged = False
        while not stop.is_set():
            try:
                client = self._new_client()
                if self._cfg.protocol == "3.1.1":  # persistent session: clean_session=False
                    client.connect(self._cfg.host, self._cfg.port, self._cfg.keepalive_s)
                else:
                    client.connect(
                        self._cfg.host,
                        self._cfg.port,
                        keepalive=self._cfg.keepalive_s,
                        clean_start=False,
                        properties=self._connect_properties(),
                    )
            except (OSError, ValueError) as exc:  # refused, DNS, TLS files or handshake
                if not outage_logged:
                    log.warning(
                        "cannot connect to the broker %s:%d (%s); retrying with backoff, "
                        "%d message(s) kept in the outbox",
                        self._cfg.host,
                        self._cfg.port,
                        exc,
                        self._outbox.depth,
                    )
                    outage_logged = True
                stop.wait(backoff_delay(self._backoff, attempt, self._rand()))
                attempt += 1
                continue
            try:
                was_connected, in_flight = self._session(client, stop)
            except Exception:  # the supervisor loop's one broad except: never stop delivering
                log.exception("publisher session failed; reconnecting")
                client.disconnect()
                was_connected, in_flight = False, []
            if was_connected and not stop.is_set():
                self._after_drop(in_flight)
            if was_connected:
                attempt = 0
                outage_logged = False
            if stop.is_set():
                break
            if not outage_logged:
                log.warning(
                    "disconnected from the broker; %d message(s) in the outbox", self._outbox.depth
                )
                outage_logged = True
            stop.wait(backoff_delay(self._backoff, attempt, self._rand()))
            attempt += 1

    def _new_client(self) -> mqtt.Client:
        v311 = self._cfg.protocol == "3.1.1"
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self._client_id,
            protocol=mqtt.MQTTv311 if v311 else mqtt.MQTTv5,
            clean_session=False if v311 else None,
        )
        client.max_inflight_messages_set(self._cfg.max_inflight)
        client.max_queued_messages_set(0)
        if self._cfg.username:
            password = self._cfg.password
            if self._cfg.password_file is not None:
                password = self._cfg.password_file.read_text(encoding="utf-8").strip()
            client.username_pw_set(self._cfg.username, password)
        if self._cfg.tls is not None:
            tls = self._cfg.tls
            client.tls_set(
                ca_certs=str(tls.ca_file),
                certfile=str(tls.cert_file) if tls.cert_file else None,
                keyfile=str(tls.key_file) if tls.key_file else None,
            )
        will = self._status_or_none(False)
        if will is not None:
            client.will_set(will[0], will[1], qos=1, retain=True)
        return client

    def _status_or_none(self, online: bool) -> tuple[str, bytes] | None:
        """The status message, or ``None`` while the outbox cannot number it (disk full)."""
        if self._status is None:
            return None
        try:
            return self._status(online)
        except (OutboxFullError, ValueError) as exc:  # never stop delivery for a status
            log.warning("station status not sent: %s", exc)
            return None

    def _connect_properties(self) -> Properties:
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = self._cfg.session_expiry_s
        return props

    def _after_drop(self, in_flight: list[int]) -> None:
        """Poison-message guard: some brokers (Mosquitto 2.0) drop the connection instead of, or
        right after, refusing a publish. After a drop with messages in flight, send one message at
        a time; a message that is alone in flight at ``_POISON_DROPS`` drops in a row is moved to
        the dead letters (kept, alerted), instead of looping forever."""
        if not in_flight:
            return
        if self._window > 1:
            self._window = 1
            log.warning(
                "connection dropped with %d message(s) in flight; sending one at a time until "
                "the broker acknowledges again",
                len(in_flight),
            )
            return
        culprit = in_flight[0]
        self._suspect_drops = self._suspect_drops + 1 if culprit == self._suspect else 1
        self._suspect = culprit
        if self._suspect_drops >= _POISON_DROPS:
            self._outbox.dead_letter(
                culprit,
                f"the broker dropped the connection {self._suspect_drops} times in a row while "
                "this message was the only one in flight",
            )
            self._suspect, self._suspect_drops = None, 0

    def _session(self, client: mqtt.Client, stop: threading.Event) -> tuple[bool, list[int]]:
        """Serve one connection; return whether the broker accepted it and what was in flight."""
        unacked: dict[int, int] = {}  # paho mid -> outbox seq
        acks: list[int] = []
        unheard: list[int] = []  # PUBACK "no matching subscribers"
        refused: list[tuple[int, str]] = []
        receipts: list[list[tuple[int, str]]] = []
        state = {"accepted": False, "failed": ""}

        def on_connect(c: Any, u: Any, flags: Any, reason: ReasonCode, props: Any) -> None:
            if reason.is_failure:
                state["failed"] = str(reason)
                return
            state["accepted"] = True
            if self._receipt_topic is not None:
                c.subscribe(self._receipt_topic, qos=1)

        def on_publish(c: Any, u: Any, mid: int, reason: ReasonCode, props: Any) -> None:
            seq = unacked.pop(mid, None)
            if seq is None:
                return  # a status message (not from the outbox)
            if reason.is_failure:
                refused.append((seq, str(reason)))
            elif reason.value == NO_MATCHING_SUBSCRIBERS:
                unheard.append(seq)
            else:
                acks.append(seq)

        def on_message(c: Any, u: Any, message: mqtt.MQTTMessage) -> None:
            try:
                receipts.append(decode_receipt(bytes(message.payload)))
            except ContractError as exc:
                log.warning("ignored a message on %s: %s", message.topic, exc)

        client.on_connect = on_connect
        client.on_publish = on_publish
        client.on_message = on_message
        started = time.monotonic()
        sent_upto = -1
        next_status = 0.0
        acked_here = 0
        try:
            while True:
                busy = bool(unacked) or bool(acks)
                rc = client.loop(timeout=0.0 if busy else 0.05)
                if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                    log.debug("network loop ended: %s", rc)
                    break
                if state["failed"]:
                    log.error("broker refused the connection: %s", state["failed"])
                    break
                if not state["accepted"]:
                    if time.monotonic() - started > _CONNACK_TIMEOUT_S:
                        log.warning("no CONNACK within %.0f s", _CONNACK_TIMEOUT_S)
                        break
                    continue
                if not self.connected.is_set():
                    self.connected.set()
                    log.info(
                        "connected to %s:%d; %d message(s) to send",
                        self._cfg.host,
                        self._cfg.port,
                        self._outbox.depth,
                    )
                now = time.monotonic()
                if acks:
                    acked_here += len(acks)
                    if self._window == 1 and acked_here >= _PROBE_ACKS:
                        self._window = self._cfg.max_inflight  # healthy again
                        self._suspect, self._suspect_drops = None, 0
                    self._acknowledged(acks, now)
                    acks.clear()
                if unheard:
                    self._unheard(unheard, now)
                    unheard.clear()
                for pairs in receipts:
                    self.confirmed_total += self._outbox.confirm(pairs)
                    self.awaiting.confirmed(seq for seq, _ in pairs)
                receipts.clear()
                for seq, reason in refused:
                    self._outbox.dead_letter(seq, reason)
                refused.clear()
                if stop.is_set():
                    self._say_offline(client)
                    break
                if self._status is not None and (now >= next_status or self._status_due.is_set()):
                    self._status_due.clear()
                    status = self._status_or_none(True)
                    if status is not None:
                        client.publish(status[0], status[1], qos=1, retain=True)
                    next_status = now + self._cfg.status_interval_s
                room = self._window - len(unacked)
                if room > 0 and self.awaiting:
                    room -= self._send(client, self._due_again(now, room), unacked, again=True)
                if room > 0:
                    batch = self._outbox.peek(sent_upto, min(room, self._cfg.read_batch))
                    fresh = [m for m in batch if m.seq not in self.awaiting]
                    sent = self._send(client, fresh, unacked)
                    if sent == len(fresh) and batch:
                        sent_upto = batch[-1].seq  # those skipped are waiting to be resent
                    elif sent:
                        sent_upto = fresh[sent - 1].seq
        finally:
            self.connected.clear()
            client.on_publish = None
            client.on_message = None
            client.disconnect()  # closes the socket; a no-op when the broker already went away
        return bool(state["accepted"]), sorted(unacked.values())

    def _send(
        self,
        client: mqtt.Client,
        msgs: list[StoredMessage],
        unacked: dict[int, int],
        again: bool = False,
    ) -> int:
        """Publish in order until paho refuses one; return how many went out. Messages sent
        ``again`` that did not go out are due again at once (the read cursor is past them)."""
        for n, msg in enumerate(msgs):
            info = client.publish(msg.topic, msg.payload, qos=1, retain=msg.retain)
            if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                if again:
                    for later in msgs[n:]:
                        self.awaiting.wait(later.seq, time.monotonic(), 0.0)
                return n
            unacked[info.mid] = msg.seq
            self.published_total += 1
        return len(msgs)

    def _due_again(self, now: float, room: int) -> list[StoredMessage]:
        """The waiting messages to send again now (those no longer stored are forgotten)."""
        due = self.awaiting.due(now, room)
        if not due:
            return []
        msgs = self._outbox.fetch(due)
        kept = {m.seq for m in msgs}
        self.awaiting.confirmed(s for s in due if s not in kept)
        for m in msgs:
            if self.awaiting.resends(m.seq) == _RESENDS_WARNED:
                log.warning(
                    "message seq=%d id=%s sent %d times without a storage receipt; it stays in "
                    "the outbox (is the cloud quarantining it, or not sending receipts?)",
                    m.seq,
                    m.message_id,
                    _RESENDS_WARNED,
                )
        return msgs

    def _acknowledged(self, seqs: list[int], now: float) -> None:
        """PUBACKs: delivered (deleted), or, waiting for storage receipts, held by the broker."""
        self.acked_total += len(seqs)
        if self._receipt_topic is None:
            self._outbox.ack(seqs)
            self.awaiting.confirmed(seqs)
            return
        for seq in seqs:
            self.awaiting.wait(seq, now, self._cfg.receipt_timeout_s)

    def _unheard(self, seqs: list[int], now: float) -> None:
        """PUBACK "no matching subscribers": the broker dropped them; keep and send again."""
        if not self.no_subscriber_total:
            log.warning(
                "the broker has no subscriber for this station's messages (PUBACK 0x10); "
                "they stay in the outbox and are sent again every %g s until one listens",
                self._cfg.no_subscriber_retry_s,
            )
        self.no_subscriber_total += len(seqs)
        for seq in seqs:
            self.awaiting.wait(seq, now, self._cfg.no_subscriber_retry_s)

    def _say_offline(self, client: mqtt.Client) -> None:
        """Clean stop: retained ``offline`` status, then a normal DISCONNECT (no Will)."""
        status = self._status_or_none(False)
        if status is not None:
            info = client.publish(status[0], status[1], qos=1, retain=True)
            deadline = time.monotonic() + 2.0
            while not info.is_published() and time.monotonic() < deadline:
                if client.loop(timeout=0.05) != MQTTErrorCode.MQTT_ERR_SUCCESS:
                    return
        client.disconnect()
        client.loop(timeout=0.1)
