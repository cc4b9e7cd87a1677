"""The station's one way to send a message: stamp it (time, clock quality, id, seq) and commit it
to the outbox. Everything a driver or workflow produces goes through :class:`Emitter`."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from labcal_edge.clock import classify_clock
from labcal_edge.messages import StationIdentity, build_envelope, topic_for
from labcal_edge.ntp import NtpProbe
from labcal_edge.outbox import Outbox, OutboxMessage
from labcal_shared.contracts import ClockQuality, DeviceRef, Envelope, Payload, encode

__all__ = ["Emitter", "Outgoing"]


@dataclass(frozen=True, slots=True)
class Outgoing:
    payload: Payload
    device: DeviceRef | None = None
    device_time: datetime | None = None


class Emitter:
    def __init__(
        self,
        identity: StationIdentity,
        outbox: Outbox,
        ntp: NtpProbe,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        new_id: Callable[[], uuid.UUID] = uuid.uuid4,
    ) -> None:
        self.identity = identity
        self.outbox = outbox
        self._ntp = ntp
        self._now = now
        self._new_id = new_id

    def clock(self) -> tuple[datetime, ClockQuality]:
        now = self._now()
        return now, classify_clock(now, self._ntp.synchronised())

    def envelope(self, seq: int, item: Outgoing) -> Envelope:
        now, quality = self.clock()
        return build_envelope(
            self.identity,
            seq=seq,
            message_id=self._new_id(),
            edge_time=now,
            clock=quality,
            payload=item.payload,
            device=item.device,
            device_time=item.device_time,
        )

    def _builder(self, item: Outgoing, out: list[Envelope]) -> Callable[[int], OutboxMessage]:
        def build(seq: int) -> OutboxMessage:
            env = self.envelope(seq, item)
            out.append(env)
            return OutboxMessage(str(env.message_id), topic_for(self.identity, env), encode(env))

        return build

    def emit(
        self, payload: Payload, device: DeviceRef | None = None, device_time: datetime | None = None
    ) -> Envelope:
        """Commit one message to the outbox; return the envelope as stored."""
        return self.emit_many([Outgoing(payload, device, device_time)])[0]

    def emit_many(self, items: Sequence[Outgoing]) -> list[Envelope]:
        """Commit several messages in one transaction (all or none)."""
        out: list[Envelope] = []
        self.outbox.append_many([self._builder(item, out) for item in items])
        return out
