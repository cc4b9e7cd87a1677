"""Envelope encode/decode: round trips, strict validation and clear error messages."""

from __future__ import annotations

import json
from typing import Any

import pytest

from labcal_shared.contracts import (
    KIND_OF_PAYLOAD,
    Kind,
    MassUnit,
    ReadingStatus,
    build_topic,
    decode,
    encode,
)
from labcal_shared.errors import ContractError, DecodeError, TopicError, UnsupportedVersionError

from .factories import envelope, payloads

ALL = payloads()


@pytest.mark.parametrize("name", sorted(ALL))
def test_every_payload_round_trips_through_json(name: str) -> None:
    env = envelope(ALL[name])
    data = encode(env)
    assert isinstance(data, bytes)
    back = decode(data, topic=build_topic(env.tenant, env.station, env.kind))
    assert back == env
    assert back.kind is KIND_OF_PAYLOAD[name]


def _mutated(name: str, change: Any) -> bytes:
    obj = json.loads(encode(envelope(ALL[name])))
    change(obj)
    return json.dumps(obj).encode()


def _set(path: str, value: Any) -> Any:
    def change(obj: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        for p in parents:
            obj = obj[int(p)] if p.isdigit() else obj[p]  # type: ignore[index]
        obj[last] = value

    return change


_INSTRUMENT = {"role": "thermometer", "make": "Testo", "model": "735", "serial": "TH-9"}
BAD: list[tuple[str, Any, type[Exception], str]] = [
    ("reading", _set("schema_version", 2), UnsupportedVersionError, "unsupported schema_version 2"),
    ("reading", _set("schema_version", "1"), UnsupportedVersionError, "unsupported schema_version"),
    ("reading", _set("payload.value", "NaN"), DecodeError, "payload.reading.value"),
    ("reading", _set("payload.unit", "lb"), DecodeError, "payload.reading.unit"),
    ("reading", _set("payload.status", "overload"), DecodeError, "value must be null"),
    ("reading", _set("payload.type", "weight"), DecodeError, "does not match any of the expected"),
    ("reading", _set("surprise", 1), DecodeError, "surprise: Extra inputs are not permitted"),
    ("reading", _set("seq", -1), DecodeError, "seq: Input should be greater than or equal to 0"),
    ("reading", _set("device", None), DecodeError, "device is required for a reading message"),
    ("reading", _set("station", "st/1"), DecodeError, "station: String should match pattern"),
    ("reading", _set("edge_time", "2026-11-23T09:00:00"), DecodeError, "edge_time"),
    ("reading", _set("message_id", "not-a-uuid"), DecodeError, "message_id"),
    ("usage_report", _set("payload.cycles_total", -5), DecodeError, "cycles_total"),
    (
        "reading_batch",
        _set("payload.readings.1.value", 2.0),
        DecodeError,
        "readings.1: value must be null when status is 'overload'",
    ),
    (
        "reading_batch",
        _set("payload.readings.0.value", None),
        DecodeError,
        "readings.0: value is required when status is 'ok'",
    ),
    ("reading_batch", _set("payload.readings.0.value", "Infinity"), DecodeError, "readings.0"),
    ("reading_batch", _set("payload.readings.0.colour", "red"), DecodeError, "colour: Extra"),
    ("reading_batch", _set("payload.readings.0.unit", "lb"), DecodeError, "readings.0.unit"),
    (
        "reading_batch",
        _set("payload.readings.0.device_time", "2026-11-23T09:00:00"),
        DecodeError,
        "readings.0.device_time",
    ),
    ("reading_batch", _set("payload.readings", []), DecodeError, "readings"),
    ("gravimetric_run", _set("payload.test_volumes", []), DecodeError, "test_volumes"),
    (
        "gravimetric_run",
        _set("payload.test_volumes.0.masses_mg", []),
        DecodeError,
        "test_volumes.0.masses_mg",
    ),
    (
        "gravimetric_run",
        _set("payload.ended_at", "2020-01-01T00:00:00Z"),
        DecodeError,
        "ended_at is before started_at",
    ),
    (
        "gravimetric_run",
        _set("payload.pipette.type", "balance"),
        DecodeError,
        "pipette.type must be 'pipette'",
    ),
    (
        "gravimetric_run",
        _set("payload.instruments", [_INSTRUMENT, _INSTRUMENT]),
        DecodeError,
        "each role (balance, thermometer…) at most once",
    ),
    (
        "gravimetric_run",
        _set("payload.instruments", [{**_INSTRUMENT, "role": "balance"}]),
        DecodeError,
        "the balance 'TH-9' is not the run's balance 'B123456789'",
    ),
    (
        "gravimetric_run",
        _set("payload.instruments", [{**_INSTRUMENT, "role": "scale"}]),
        DecodeError,
        "instruments.0.role",
    ),
    ("gravimetric_run", _set("payload.tip", {"make": "Acme"}), DecodeError, "tip.model"),
    ("station_status", _set("payload.state", "sleeping"), DecodeError, "payload.station_status"),
    ("device_event", _set("payload.event", "explode"), DecodeError, "payload.device_event.event"),
]


@pytest.mark.parametrize(("name", "change", "error", "text"), BAD)
def test_invalid_messages_are_refused_with_a_reason(
    name: str, change: Any, error: type[Exception], text: str
) -> None:
    with pytest.raises(error) as info:
        decode(_mutated(name, change))
    assert text in str(info.value)


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"", "not valid JSON"),
        (b"{", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[1, 2]", "invalid message"),
        (b"{}", "message_id: Field required"),
    ],
)
def test_garbage_bytes_are_refused(data: bytes, text: str) -> None:
    with pytest.raises(DecodeError, match=text):
        decode(data)


@pytest.mark.parametrize(
    ("topic", "text"),
    [
        ("labcal/v1/other-lab/station-01/reading", "says tenant 'other-lab'"),
        ("labcal/v1/acme-lab/station-02/reading", "says station 'station-02'"),
        ("labcal/v1/acme-lab/station-01/usage", "says kind 'usage'"),
    ],
)
def test_topic_must_agree_with_the_envelope(topic: str, text: str) -> None:
    data = encode(envelope(ALL["reading"]))
    with pytest.raises(ContractError, match=text):
        decode(data, topic=topic)


def test_malformed_topic_is_a_topic_error() -> None:
    with pytest.raises(TopicError):
        decode(encode(envelope(ALL["reading"])), topic="labcal/v2/acme-lab/station-01/reading")


def test_many_errors_are_summarised() -> None:
    obj = json.loads(encode(envelope(ALL["reading_batch"])))
    obj["payload"]["readings"] = [{"value": "x", "unit": "lb", "stable": 3}] * 4
    with pytest.raises(DecodeError, match=r"\(and \d+ more\)"):
        decode(json.dumps(obj))


def test_batched_values_are_dicts_with_every_key_after_decoding() -> None:
    obj = json.loads(encode(envelope(ALL["reading_batch"])))
    obj["payload"]["readings"] = [{"value": 1, "unit": "mg", "stable": True}]
    (value,) = decode(json.dumps(obj)).payload.readings  # type: ignore[union-attr]
    assert value == {
        "value": 1.0,
        "unit": MassUnit.MG,
        "stable": True,
        "status": ReadingStatus.OK,
        "device_time": None,
    }
    assert isinstance(value["value"], float)


def test_kinds_cover_every_payload_type() -> None:
    assert set(KIND_OF_PAYLOAD.values()) == set(Kind) - {Kind.CMD}
