"""The pure judge and row builder, table-driven."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime

import pytest

from labcal_cloud.ingest.core import (
    QUARANTINE_KEEP_BYTES,
    Accepted,
    Incoming,
    Quarantined,
    build_batch,
    judge,
)
from labcal_shared.contracts import Reading

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def directory(tenant: str, station: str):
    return {station: tenant, "st-other": "other-tenant"}.get


def LOOKUP(msgs):  # noqa: N802
    return directory(msgs.tenant, msgs.station)


def incoming(topic: str, payload: bytes) -> Incoming:
    return Incoming(topic, payload, NOW)


@pytest.mark.parametrize(
    ("topic", "code"),
    [
        ("labcal/v2/t/s/reading", "topic"),
        ("labcal/v1/t/s", "topic"),
        ("labcal/v1/t/s/nonsense", "topic"),
        ("labcal/v1/{tenant}/unknown-station/reading", "station"),
        ("labcal/v1/{tenant}/st-other/reading", "tenant"),
    ],
)
def test_bad_topics_and_identities_are_quarantined(msgs, topic, code):
    env = msgs.reading()
    topic = topic.format(tenant=msgs.tenant)
    verdict = judge(incoming(topic, msgs.wire(env)[1]), LOOKUP(msgs))
    assert isinstance(verdict, Quarantined)
    assert verdict.reason.startswith(code + ":")


@pytest.mark.parametrize(
    ("payload", "needle"),
    [
        (b"", "json: not valid JSON"),
        (b"\xff\xfe", "json: not valid JSON"),
        (b"[]", "schema: invalid message"),
        (b'{"schema_version": 2}', "version: unsupported schema_version 2"),
    ],
)
def test_malformed_payloads_are_quarantined_with_the_reason(msgs, payload, needle):
    topic = msgs.wire(msgs.reading())[0]
    verdict = judge(incoming(topic, payload), LOOKUP(msgs))
    assert isinstance(verdict, Quarantined)
    assert verdict.reason.startswith(needle)


def test_an_oversized_payload_is_quarantined_unread_and_cut(msgs):
    topic, payload = msgs.wire(msgs.reading())
    big = payload + b" " * 100
    verdict = judge(incoming(topic, big), LOOKUP(msgs), max_payload_bytes=len(payload) + 99)
    assert isinstance(verdict, Quarantined)
    assert verdict.reason.startswith(f"oversize: payload of {len(big)} bytes")
    assert isinstance(judge(incoming(topic, big), LOOKUP(msgs)), Accepted)  # under the default
    huge = b"x" * (QUARANTINE_KEEP_BYTES + 10)
    batch, _ = build_batch([incoming(topic, huge)], LOOKUP(msgs), max_payload_bytes=1000)
    (row,) = batch.quarantine
    assert row.payload == huge[:QUARANTINE_KEEP_BYTES]
    assert row.digest == hashlib.sha256(topic.encode() + b"\0" + huge).hexdigest()


def test_a_replayed_id_with_other_content_in_one_batch_is_left_to_the_store(msgs):
    env = msgs.reading(1.0)
    replay = env.model_copy(update={"payload": Reading(value=2.0, unit="mg", stable=True)})
    same_seq = msgs.reading(3.0).model_copy(update={"seq": env.seq})
    items = [incoming(*msgs.wire(e)) for e in (env, env, replay, replay, same_seq)]
    batch, duplicates = build_batch(items, LOOKUP(msgs))
    assert duplicates == 2  # the identical copies
    # the first copy is the batch's message; the other content waits for the store's verdict
    assert [m.message_id for m in batch.messages] == [env.message_id, same_seq.message_id]
    assert [r.value for r in batch.readings] == [1.0, 3.0]
    ((row, source),) = batch.replays
    assert row.message_id == env.message_id
    assert row.digest == hashlib.sha256(msgs.wire(replay)[1]).digest() != batch.messages[0].digest
    assert source == msgs.wire(replay)
    assert batch.quarantine == []


def test_envelope_that_disagrees_with_its_topic_is_quarantined(msgs):
    env = msgs.reading()
    topic = msgs.wire(msgs.usage(1))[0]  # the usage topic of the same station
    verdict = judge(incoming(topic, msgs.wire(env)[1]), LOOKUP(msgs))
    assert isinstance(verdict, Quarantined)
    assert "kind" in verdict.reason


def test_envelope_of_another_station_than_its_topic_is_quarantined(msgs):
    env = msgs.reading()
    topic = f"labcal/v1/{msgs.tenant}/st-two/reading"  # registered to the same tenant
    lookup = {msgs.station: msgs.tenant, "st-two": msgs.tenant}.get
    verdict = judge(incoming(topic, msgs.wire(env)[1]), lookup)
    assert isinstance(verdict, Quarantined)
    assert verdict.reason == (
        f"mismatch: topic {topic!r} says station 'st-two' but the envelope says {msgs.station!r}"
    )
    assert (verdict.tenant, verdict.station) == (msgs.tenant, "st-two")


def test_valid_message_is_accepted(msgs):
    env = msgs.reading()
    verdict = judge(incoming(*msgs.wire(env)), LOOKUP(msgs))
    assert isinstance(verdict, Accepted)
    assert verdict.envelope == env


def test_batch_rows_per_kind_and_in_batch_duplicates(msgs):
    envs = [
        msgs.reading(),
        msgs.batch(3),
        msgs.usage(7),
        msgs.event(),
        msgs.run(),
        msgs.status(),
    ]
    items = [incoming(*msgs.wire(e)) for e in envs]
    items.append(items[0])  # redelivered before the first copy was acked
    items.append(incoming("bad/topic", b"x"))
    items.append(incoming("bad/topic", b"x"))
    batch, dups = build_batch(items, LOOKUP(msgs))
    assert dups == 2
    assert len(batch.messages) == 6
    assert [(r.idx, r.value) for r in batch.readings] == [(0, 997.0)]
    (series,) = batch.series  # a reading_batch message: its values column by column
    assert series.message_id == envs[1].message_id
    assert series.vals == [0.0, 1.0, 2.0]
    assert [(r.idx, r.value) for r in batch.all_readings()] == [
        (0, 997.0),
        (0, 0.0),
        (1, 1.0),
        (2, 2.0),
    ]
    assert len(list(batch.all_readings())) == 4
    assert batch.usage[0].cycles_total == 7
    assert batch.events[0].event == "drop"
    assert batch.runs[0].run_id == envs[4].payload.run_id
    assert len(batch.quarantine) == 1
    reading_msgs = [m for m in batch.messages if m.kind == "reading"]
    assert all(m.payload_json is None for m in reading_msgs)
    status = next(m for m in batch.messages if m.kind == "status")
    assert status.payload_json is not None
    assert '"online"' in status.payload_json
    assert {m.received_at for m in batch.messages} == {NOW}


def test_reading_time_prefers_device_time_of_each_value(msgs):
    from labcal_shared.contracts import ReadingBatch

    t = datetime(2026, 1, 1, tzinfo=UTC)
    env = msgs.envelope(
        ReadingBatch(
            readings=[
                {"value": 1.0, "unit": "g", "stable": True, "device_time": t},
                {"value": None, "unit": "g", "stable": False, "status": "overload"},
            ],
            run_id=uuid.uuid4(),
        )
    )
    batch, _ = build_batch([incoming(*msgs.wire(env))], LOOKUP(msgs))
    readings = list(batch.all_readings())
    assert readings[0].time == t
    assert readings[1].time == env.device_time
    assert readings[1].status == "overload"
    assert readings[1].value is None
    assert {r.run_id for r in readings} == {env.payload.run_id}
    (series,) = batch.series
    assert (series.first_time, series.last_time) == (
        min(t, env.device_time),
        max(t, env.device_time),
    )
    assert series.units == ["g", "g"]
    assert series.stables == [True, False]
