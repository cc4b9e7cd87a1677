"""The pure core of ingest: judge one MQTT message and turn it into rows.

No MQTT, SQL or clock here: the worker passes the received time and a station directory in.
A message is *accepted* (its envelope becomes rows) or *quarantined* with a reason that a person
can act on. The reason's first word is its code (the ``reason`` label of
``labcal_ingest_quarantined_total``):

- ``oversize:`` payload larger than the limit (judged before anything is parsed; the quarantine
  keeps its first :data:`QUARANTINE_KEEP_BYTES` bytes);
- ``topic:`` not ``labcal/v1/{tenant}/{station}/{kind}`` (bad identifier, unknown kind …);
- ``station:`` the topic's station is not registered;
- ``tenant:`` the topic's tenant is not the one the station is registered to;
- ``json:`` not JSON (or not UTF-8);
- ``version:`` a ``schema_version`` this code does not read;
- ``schema:`` JSON that is not a valid envelope: missing or unknown fields, wrong types, an
  unknown payload type;
- ``mismatch:`` the envelope's tenant, station or kind disagrees with its topic;
- ``conflict:`` a message id (or station and sequence number) seen before with other content
  (here inside one batch; across batches the store decides, see ``storage.rows``);
- ``storage:`` the database refused this one message (decided by the loop).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from labcal_cloud.ingest.limits import MAX_PAYLOAD_BYTES
from labcal_cloud.storage.rows import (
    Batch,
    EventRow,
    MessageRow,
    QuarantineRow,
    ReadingRow,
    ReadingSeriesRow,
    RunRow,
    UsageRow,
    quarantine_digest,
)
from labcal_shared.contracts import (
    DeviceEvent,
    Envelope,
    GravimetricRun,
    Reading,
    ReadingBatch,
    UsageReport,
    decode,
    parse_topic,
    validate_identifier,
)
from labcal_shared.errors import ContractError, TopicError, UnsupportedVersionError

__all__ = [
    "QUARANTINE_KEEP_BYTES",
    "Accepted",
    "Incoming",
    "Quarantined",
    "Verdict",
    "build_batch",
    "judge",
    "quarantine_row",
    "rows_of",
]

QUARANTINE_KEEP_BYTES = 64 * 1024
"""How much of an oversized payload the quarantine keeps (its digest covers all of it)."""

StationLookup = Callable[[str], str | None]
"""station id → the tenant it is registered to, or None when unknown."""


class Incoming(NamedTuple):
    """One MQTT message as received (``mid``/``qos``/``connection`` let the shell ack it later).

    A named tuple: one is built per received message, about 3x faster than a frozen dataclass.
    """

    topic: str
    payload: bytes
    received_at: datetime
    mid: int = 0
    qos: int = 1
    connection: int = 0  # which MQTT connection delivered it: a packet id is only valid there


@dataclass(frozen=True, slots=True)
class Accepted:
    envelope: Envelope


@dataclass(frozen=True, slots=True)
class Quarantined:
    reason: str  # starts with a short code: "topic:", "station:", "schema:" … (see above)
    tenant: str | None = None
    station: str | None = None
    keep_bytes: int | None = None  # keep only this much of the payload (oversized ones)


Verdict = Accepted | Quarantined


_parse_topic_cached = functools.lru_cache(maxsize=65_536)(parse_topic)
"""Topics repeat (one per station and kind): parse each once. Errors are not cached."""


def _topic_identity(topic: str) -> tuple[str | None, str | None]:
    """The tenant and station a topic names, when it has the ``labcal/v1/{tenant}/{station}/…``
    shape with valid identifiers (so a bad kind is still quarantined under its tenant)."""
    parts = topic.split("/")
    if len(parts) < 4 or parts[0] != "labcal" or parts[1] != "v1":
        return None, None
    try:
        return validate_identifier(parts[2], "tenant"), validate_identifier(parts[3], "station")
    except TopicError:
        return None, None


def judge(
    msg: Incoming, tenant_of: StationLookup, *, max_payload_bytes: int = MAX_PAYLOAD_BYTES
) -> Verdict:
    """Check size, topic, station registration, tenant and envelope; never raises for bad
    input."""
    if len(msg.payload) > max_payload_bytes:
        return Quarantined(
            f"oversize: payload of {len(msg.payload)} bytes exceeds the limit of "
            f"{max_payload_bytes} (first {QUARANTINE_KEEP_BYTES} bytes kept)",
            *_topic_identity(msg.topic),
            keep_bytes=QUARANTINE_KEEP_BYTES,
        )
    try:
        topic = _parse_topic_cached(msg.topic)
    except TopicError as exc:
        return Quarantined(f"topic: {exc}", *_topic_identity(msg.topic))
    registered = tenant_of(topic.station)
    if registered is None:
        return Quarantined(
            f"station: station {topic.station!r} is not registered", topic.tenant, topic.station
        )
    if registered != topic.tenant:
        return Quarantined(
            f"tenant: station {topic.station!r} belongs to tenant {registered!r}, "
            f"not {topic.tenant!r}",
            topic.tenant,
            topic.station,
        )
    try:
        envelope = decode(msg.payload)  # the topic is parsed already: compare, don't re-parse
    except UnsupportedVersionError as exc:
        return Quarantined(f"version: {exc}", topic.tenant, topic.station)
    except ContractError as exc:
        text = str(exc)
        code = "json" if text.startswith("not valid JSON") else "schema"
        return Quarantined(f"{code}: {text}", topic.tenant, topic.station)
    if (
        envelope.tenant == topic.tenant
        and envelope.station == topic.station
        and envelope.kind is topic.kind
    ):
        return Accepted(envelope)
    what, in_topic, in_envelope = next(
        m
        for m in (
            ("tenant", topic.tenant, envelope.tenant),
            ("station", topic.station, envelope.station),
            ("kind", topic.kind.value, envelope.kind.value),
        )
        if m[1] != m[2]
    )  # worded like labcal_shared's check_topic
    return Quarantined(
        f"mismatch: topic {msg.topic!r} says {what} {in_topic!r} "
        f"but the envelope says {in_envelope!r}",
        topic.tenant,
        topic.station,
    )


def quarantine_row(msg: Incoming, verdict: Quarantined) -> QuarantineRow:
    payload = msg.payload
    if verdict.keep_bytes is not None:
        payload = payload[: verdict.keep_bytes]
    return QuarantineRow(
        quarantine_digest(msg.topic, msg.payload),
        msg.received_at,
        msg.topic,
        verdict.tenant,
        verdict.station,
        verdict.reason,
        payload,
    )


def rows_of(
    env: Envelope,
    received_at: datetime,
    batch: Batch,
    source: tuple[str, bytes] | None = None,
    digest: bytes | None = None,
) -> None:
    """Append the rows of one accepted envelope to ``batch``; ``source`` is its (topic, raw
    payload) and ``digest`` the payload's sha256 (computed from ``source`` when not given)."""
    if digest is None and source is not None:
        digest = hashlib.sha256(source[1]).digest()
    batch.sources.append(source)
    p = env.payload
    dev = env.device
    time = env.device_time or env.edge_time
    keeps_json = not isinstance(p, Reading | ReadingBatch)
    batch.messages.append(
        MessageRow(
            env.message_id,
            env.tenant,
            env.station,
            env.seq,
            env.kind._value_,  # enum values read from ``_value_``, as below
            p.type,
            dev.type._value_ if dev else None,
            dev.make if dev else None,
            dev.model if dev else None,
            dev.serial if dev else None,
            env.device_time,
            env.edge_time,
            env.clock._value_,
            received_at,
            digest,
            p.model_dump_json(exclude_none=True) if keeps_json else None,
        )
    )
    if isinstance(p, Reading):
        assert dev is not None  # the envelope validator requires it
        batch.readings.append(
            ReadingRow(
                env.message_id,
                0,
                env.tenant,
                env.station,
                dev.serial,
                time,
                p.value,
                p.unit._value_,
                p.stable,
                p.status._value_,
                p.run_id,
            )
        )
    elif isinstance(p, ReadingBatch):
        assert dev is not None
        # the hot loop of batched ingest: one pass per column; enum values read from ``_value_``
        # (the plain attribute behind the ``value`` property, ~5x cheaper to read)
        values = p.readings
        times = [r["device_time"] or time for r in values]
        batch.series.append(
            ReadingSeriesRow(
                env.message_id,
                env.tenant,
                env.station,
                dev.serial,
                p.run_id,
                min(times),
                max(times),
                times,
                [r["value"] for r in values],
                [r["unit"]._value_ for r in values],
                [r["stable"] for r in values],
                [r["status"]._value_ for r in values],
            )
        )
    elif isinstance(p, UsageReport):
        assert dev is not None
        batch.usage.append(
            UsageRow(
                env.message_id,
                env.tenant,
                env.station,
                dev.make,
                dev.model,
                dev.serial,
                time,
                p.cycles_total,
                p.cycles_since_service,
                p.trigger.value,
                p.volume_setting_ul,
            )
        )
    elif isinstance(p, GravimetricRun):
        batch.runs.append(
            RunRow(
                env.message_id,
                env.tenant,
                env.station,
                p.run_id,
                p.mode.value,
                p.phase,
                p.pipette.make,
                p.pipette.model,
                p.pipette.serial,
                p.balance.serial,
                p.nominal_volume_ul,
                p.started_at,
                p.ended_at,
                p.model_dump_json(exclude_none=True),
            )
        )
    elif isinstance(p, DeviceEvent):
        assert dev is not None
        batch.events.append(
            EventRow(
                env.message_id,
                env.tenant,
                env.station,
                dev.serial,
                time,
                p.event.value,
                p.code,
                p.detail,
            )
        )
    # station_status: the messages row (with its JSON payload) is the record


def build_batch(
    messages: Iterable[Incoming],
    tenant_of: StationLookup,
    *,
    max_payload_bytes: int = MAX_PAYLOAD_BYTES,
) -> tuple[Batch, int]:
    """Judge every message and build one batch; return it and the count of in-batch duplicates.

    A message id seen twice in the same batch with the same payload (a redelivery that arrived
    before the first copy was acked) is kept once. A later copy with another payload goes to
    ``batch.replays``: the store then tells a conflict (quarantined) from a redelivery of what it
    holds. Two ids under one station and sequence number are the store's to judge too.
    """
    batch = Batch()
    seen_quarantine: set[str] = set()
    digests: dict[int, bytes] = {}  # message id (its int: cheaper to hash) → first copy's digest
    replayed: set[tuple[object, bytes]] = set()
    duplicates = 0
    sha256 = hashlib.sha256
    for msg in messages:
        verdict = judge(msg, tenant_of, max_payload_bytes=max_payload_bytes)
        if isinstance(verdict, Quarantined):
            row = quarantine_row(msg, verdict)
            if row.digest in seen_quarantine:
                duplicates += 1
                continue
            seen_quarantine.add(row.digest)
            batch.quarantine.append(row)
            continue
        env = verdict.envelope
        digest = sha256(msg.payload).digest()
        first = digests.setdefault(env.message_id.int, digest)
        if first is digest:
            rows_of(env, msg.received_at, batch, (msg.topic, msg.payload), digest)
        elif first == digest or (env.message_id, digest) in replayed:
            duplicates += 1
        else:
            replayed.add((env.message_id, digest))
            scratch = Batch()
            rows_of(env, msg.received_at, scratch, None, digest)
            batch.replays.append((scratch.messages[0], (msg.topic, msg.payload)))
    return batch, duplicates
