"""The rows ingest writes, as plain tuples in column order (fast for COPY and executemany).

Every table keyed by ``message_id`` is written only when the message's row in ``messages`` is new,
which is what makes storage idempotent: a message delivered twice is stored once. A message whose
id (or station and sequence number) is stored already *with other content* (another payload
digest) is a conflict: it is quarantined, never stored nor silently dropped as a duplicate.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple
from uuid import UUID

__all__ = [
    "Batch",
    "EventRow",
    "MessageRow",
    "QuarantineRow",
    "ReadingRow",
    "ReadingSeriesRow",
    "RunRow",
    "UsageRow",
    "columns",
    "conflict_reason",
    "conflict_row",
    "is_redelivery",
    "quarantine_digest",
]


class MessageRow(NamedTuple):
    message_id: UUID
    tenant: str
    station: str
    seq: int
    kind: str
    payload_type: str
    device_type: str | None
    device_make: str | None
    device_model: str | None
    device_serial: str | None
    device_time: datetime | None
    edge_time: datetime
    clock: str
    received_at: datetime
    digest: bytes | None  # sha256 of the raw MQTT payload: tells a redelivery from a conflict
    payload_json: str | None  # None for readings: their values live in ``readings``


class ReadingRow(NamedTuple):
    message_id: UUID
    idx: int
    tenant: str
    station: str
    device_serial: str
    time: datetime
    value: float | None
    unit: str
    stable: bool
    status: str
    run_id: UUID | None


class ReadingSeriesRow(NamedTuple):
    """The values of one ``reading_batch`` message, column by column.

    PostgreSQL keeps it as one ``reading_series`` row of arrays (one row and three index entries
    per batch instead of per value: per-value index upkeep capped one-row-per-value ingest at
    about 160,000 values/s on the bench machine); SQLite writes one ``readings`` row per value.
    Either way a value reads back as a reading whose ``idx`` is its position in the batch.
    """

    message_id: UUID
    tenant: str
    station: str
    device_serial: str
    run_id: UUID | None
    first_time: datetime  # min(times) and max(times): lets a time range skip whole series
    last_time: datetime
    times: list[datetime]
    vals: list[float | None]
    units: list[str]
    stables: list[bool]
    statuses: list[str]

    def reading_rows(self) -> Iterator[ReadingRow]:
        """One :class:`ReadingRow` per value, in batch order."""
        m, tenant, station, serial, run_id = (
            self.message_id,
            self.tenant,
            self.station,
            self.device_serial,
            self.run_id,
        )
        for i, (t, v, u, st, ss) in enumerate(
            zip(self.times, self.vals, self.units, self.stables, self.statuses, strict=True)
        ):
            yield ReadingRow(m, i, tenant, station, serial, t, v, u, st, ss, run_id)


class UsageRow(NamedTuple):
    message_id: UUID
    tenant: str
    station: str
    device_make: str
    device_model: str
    device_serial: str
    time: datetime
    cycles_total: int
    cycles_since_service: int
    trigger: str
    volume_setting_ul: float | None


class RunRow(NamedTuple):
    message_id: UUID
    tenant: str
    station: str
    run_id: UUID
    mode: str
    phase: str | None
    pipette_make: str
    pipette_model: str
    pipette_serial: str
    balance_serial: str
    nominal_volume_ul: float
    started_at: datetime
    ended_at: datetime
    payload_json: str


class EventRow(NamedTuple):
    message_id: UUID
    tenant: str
    station: str
    device_serial: str
    time: datetime
    event: str
    code: str | None
    detail: str


class QuarantineRow(NamedTuple):
    digest: str  # sha256 of topic and payload: a redelivered bad message is kept once
    received_at: datetime
    topic: str
    tenant: str | None
    station: str | None
    reason: str
    payload: bytes


def quarantine_digest(topic: str, payload: bytes) -> str:
    """The quarantine key: sha256 of topic and payload (a redelivered bad message is kept once)."""
    return hashlib.sha256(topic.encode() + b"\0" + payload).hexdigest()


def conflict_reason(m: MessageRow, stored_as: str | None) -> str:
    """The quarantine reason of a conflict: ``stored_as`` is the message id already stored
    under ``m``'s station and sequence number, or None when ``m``'s own id is stored already."""
    if stored_as is None:
        return (
            f"conflict: message id {m.message_id} is stored already with other content "
            "(a replayed id: the first copy is kept)"
        )
    return (
        f"conflict: station {m.station!r} seq {m.seq} is stored already as message "
        f"{stored_as} (message {m.message_id} refused)"
    )


def conflict_row(m: MessageRow, source: tuple[str, bytes] | None, reason: str) -> QuarantineRow:
    """The quarantine row of message ``m`` (``source``: its topic and raw payload)."""
    topic, payload = source if source is not None else (f"(message {m.message_id})", b"")
    digest = quarantine_digest(topic, payload)
    return QuarantineRow(digest, m.received_at, topic, m.tenant, m.station, reason, payload)


def is_redelivery(stored_digest: bytes | memoryview | None, m: MessageRow) -> bool:
    """Whether ``m`` carries what is stored under its id (a digest missing on either side, from
    before digests were kept, counts as the same)."""
    return stored_digest is None or m.digest is None or bytes(stored_digest) == m.digest


def columns(row_type: type[tuple[object, ...]]) -> tuple[str, ...]:
    """The column names of a row type, in order."""
    return tuple(row_type._fields)  # type: ignore[attr-defined]


@dataclass(slots=True)
class Batch:
    """Everything one transaction writes."""

    messages: list[MessageRow] = field(default_factory=list)
    readings: list[ReadingRow] = field(default_factory=list)  # single-reading messages
    series: list[ReadingSeriesRow] = field(default_factory=list)  # reading_batch messages
    usage: list[UsageRow] = field(default_factory=list)
    runs: list[RunRow] = field(default_factory=list)
    events: list[EventRow] = field(default_factory=list)
    quarantine: list[QuarantineRow] = field(default_factory=list)
    sources: list[tuple[str, bytes] | None] = field(default_factory=list)
    """The (topic, raw payload) of each of ``messages``, in the same order (None when the rows
    were built without them): what a store quarantines when a message turns out a conflict."""

    replays: list[tuple[MessageRow, tuple[str, bytes]]] = field(default_factory=list)
    """Later copies, in this batch, of a message id that ``messages`` holds already with another
    payload digest (with their topic and raw payload). Only their ``messages`` row is built.
    After writing, the store compares each with the digest stored under its id: the same is a
    duplicate, another a conflict (quarantined). So the copy that arrived first wins, whether it
    came in an earlier batch or earlier in this one."""

    def conflict_row(self, index: int, reason: str) -> QuarantineRow:
        """The quarantine row of ``messages[index]``, refused as a conflict with ``reason``."""
        source = self.sources[index] if index < len(self.sources) else None
        return conflict_row(self.messages[index], source, reason)

    def all_readings(self) -> Iterator[ReadingRow]:
        """Every reading of the batch, one row per value (series expanded)."""
        yield from self.readings
        for series in self.series:
            yield from series.reading_rows()
