"""10,000 malformed payloads, interleaved with valid messages, to a running worker on the real
broker and both databases (SQLite and PostgreSQL, the ``store_url`` fixture; about 4 s each
on the shared 2-core machine).

Every malformed payload is distinct (the quarantine keeps a redelivered bad message once, by
digest), so each must land in quarantine with the reason of its class; the per-code counter
``labcal_ingest_quarantined_total{reason}`` must count each class; every valid message must be
stored exactly once with its value (an identical redelivery is a duplicate, never a second row);
and the worker must still store a message published after all of them.
"""

from __future__ import annotations

import contextlib
import json
import random
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from labcal_cloud.ingest.limits import MAX_PAYLOAD_BYTES
from labcal_cloud.ops.collect import reason_code
from labcal_cloud.storage.ports import StationRecord
from labcal_shared.contracts import build_topic

N_MALFORMED = 10_000
N_VALID = 2_000
CHUNK = 500
N_OVERSIZE = 3  # 4 MiB each: a handful is enough to show the path, more only costs the broker


@dataclass(frozen=True)
class Bad:
    cls: str
    code: str  # the reason's first word
    needle: str  # a phrase the reason must contain
    topic: str
    payload: bytes


def _mutate(doc: dict, path: tuple[str, ...], value: object) -> bytes:
    doc = json.loads(json.dumps(doc))
    node = doc
    for key in path[:-1]:
        node = node[key]
    if value is _DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return json.dumps(doc).encode()


_DELETE = object()


class MalformedFactory:
    """One malformed payload of a given class, made distinct by ``i``."""

    def __init__(self, messages, other_station: str, foreign_station: str) -> None:
        self.m = messages
        self.other = other_station  # registered to the same tenant
        self.foreign = foreign_station  # registered to another tenant
        self.topic = build_topic(messages.tenant, messages.station, "reading")

    def template(self, i: int) -> dict:
        env = self.m.reading(float(i)).model_copy(update={"seq": 10_000_000 + i})
        return json.loads(self.m.wire(env)[1])

    def make(self, cls: str, i: int, stored: list) -> Bad:
        t = self.template(i)
        topic = self.topic
        tenant = self.m.tenant
        if cls == "broken_json":
            raw = json.dumps(t).encode()
            return Bad(cls, "json", "not valid JSON", topic, raw[: len(raw) - 1 - i % 100])
        if cls == "not_utf8":
            return Bad(cls, "json", "not valid JSON", topic, b"\xff\xfe" + str(i).encode())
        if cls == "missing_field":
            field = ("seq", "message_id", "edge_time", "clock", "payload")[i % 5]
            return Bad(
                cls, "schema", "Field required", topic, _mutate(t, (field,), _DELETE)[:-1] + b" }"
            )
        if cls == "unknown_field":
            return Bad(cls, "schema", "Extra inputs", topic, _mutate(t, (f"x{i}",), i))
        if cls == "wrong_type":
            path, value = (
                (("seq",), f"seq-{i}"),
                (("payload", "value"), f"heavy-{i}"),
                (("payload", "stable"), [i]),
                (("edge_time",), {"at": i}),  # (a number would pass: lax unix time)
            )[i % 4]
            return Bad(cls, "schema", "Input should be", topic, _mutate(t, path, value))
        if cls == "not_an_object":
            return Bad(cls, "schema", "Input should be an object", topic, f"[{i}]".encode())
        if cls == "unknown_payload_type":
            payload = _mutate(t, ("payload", "type"), f"telepathy-{i}")
            return Bad(cls, "schema", "does not match any of the expected tags", topic, payload)
        if cls == "unknown_kind_in_topic":
            kind_topic = f"labcal/v1/{tenant}/{self.m.station}/telemetry"
            return Bad(cls, "topic", "unknown kind", kind_topic, json.dumps(t).encode())
        if cls == "bad_station_id":
            bad_topic = f"labcal/v1/{tenant}/bad%station{i}/reading"
            return Bad(cls, "topic", "invalid station", bad_topic, json.dumps(t).encode())
        if cls == "version":
            payload = _mutate(t, ("schema_version",), 2 + i)
            return Bad(cls, "version", "unsupported schema_version", topic, payload)
        if cls == "tenant_in_payload":  # the topic is ours, the envelope names another tenant
            payload = _mutate(t, ("tenant",), f"{tenant}-x")
            return Bad(cls, "mismatch", "says tenant", topic, payload)
        if cls == "station_in_payload":  # published under a sibling station's topic
            other_topic = build_topic(tenant, self.other, "reading")
            return Bad(cls, "mismatch", "says station", other_topic, json.dumps(t).encode())
        if cls == "kind_in_topic":
            usage_topic = build_topic(tenant, self.m.station, "usage")
            return Bad(cls, "mismatch", "says kind", usage_topic, json.dumps(t).encode())
        if cls == "station_of_other_tenant":  # a station registered to another tenant
            foreign_topic = build_topic(tenant, self.foreign, "reading")
            payload = _mutate(t, ("station",), self.foreign)
            return Bad(cls, "tenant", "belongs to tenant", foreign_topic, payload)
        if cls == "unknown_station":
            station = f"ghost-{i}"
            payload = _mutate(t, ("station",), station)
            return Bad(
                cls,
                "station",
                "is not registered",
                build_topic(tenant, station, "reading"),
                payload,
            )
        if cls == "replayed_id":  # a stored message's id with another value
            env = stored[i % len(stored)]
            payload = _mutate(json.loads(self.m.wire(env)[1]), ("payload", "value"), -1.0 - i)
            return Bad(cls, "conflict", "message id", topic, payload)
        if cls == "replayed_seq":  # a new id under a stored message's station and seq
            env = stored[i % len(stored)]
            payload = _mutate(json.loads(self.m.wire(env)[1]), ("message_id",), str(uuid.uuid4()))
            return Bad(cls, "conflict", f"seq {env.seq}", topic, payload)
        raise AssertionError(cls)


CLASSES = (
    "broken_json",
    "not_utf8",
    "missing_field",
    "unknown_field",
    "wrong_type",
    "not_an_object",
    "unknown_payload_type",
    "unknown_kind_in_topic",
    "bad_station_id",
    "version",
    "tenant_in_payload",
    "station_in_payload",
    "kind_in_topic",
    "station_of_other_tenant",
    "unknown_station",
    "replayed_id",
    "replayed_seq",
)


def test_ten_thousand_malformed_payloads_are_quarantined_and_valid_ones_kept(
    store, messages, publisher, start_worker, wait: Callable[..., None], tenant_id
):
    sibling = f"{messages.station}-b"
    foreign = f"{messages.station}-f"
    store.add_station(StationRecord(sibling, tenant_id, "$7$1$x$y"))
    store.add_station(StationRecord(foreign, f"{tenant_id}-other", "$7$1$x$y"))
    factory = MalformedFactory(messages, sibling, foreign)
    rng = random.Random(18)
    worker = start_worker()

    valid = [messages.reading(float(i)) for i in range(N_VALID)]
    stream: list[tuple[str, bytes]] = []
    bad: list[Bad] = []
    redelivered = 0
    per_valid = N_MALFORMED // N_VALID
    for i, env in enumerate(valid):
        stream.append(messages.wire(env))
        if i % 10 == 9:  # an identical redelivery of an earlier message: a duplicate
            stream.append(messages.wire(valid[rng.randrange(i)]))
            redelivered += 1
        for k in range(per_valid):
            n = i * per_valid + k
            # replays refer to messages published at least 50 places earlier
            cls = CLASSES[n % len(CLASSES)] if i >= 50 else CLASSES[n % (len(CLASSES) - 2)]
            b = factory.make(cls, n, valid[: max(1, i - 50)])
            bad.append(b)
            stream.append((b.topic, b.payload))
    for n in range(N_OVERSIZE):
        b = Bad(
            "oversize",
            "oversize",
            f"exceeds the limit of {MAX_PAYLOAD_BYTES}",
            factory.topic,
            bytes([65 + n]) * (MAX_PAYLOAD_BYTES + 1 + n),
        )
        bad.append(b)
        stream.insert(rng.randrange(len(stream)), (b.topic, b.payload))
    assert len(bad) >= N_MALFORMED
    dups = Counter(b.cls for b in bad) - Counter({b.cls: 1 for b in bad})
    distinct = {(b.topic, b.payload): b.cls for b in bad}
    assert len(distinct) == len(bad), f"malformed payloads must differ: {dups}"

    # in steps the worker keeps up with: the machine's broker queues at most 1000 messages per
    # client beyond those in flight (Mosquitto's default) and drops the rest, even at QoS 1
    for start in range(0, len(stream), CHUNK):
        publisher.publish(stream[start : start + CHUNK])
        sent = min(start + CHUNK, len(stream))
        wait(lambda n=sent: worker.metrics.get("received") >= n, timeout_s=60, what=f"{sent} in")
    assert worker.metrics.get("received") == len(stream)
    with contextlib.suppress(pytest.fail.Exception):  # the checks below say which are missing
        wait(lambda: store.count("quarantine") >= len(bad), timeout_s=30, what="all quarantined")
    marker = messages.reading(-12345.0)
    publisher.publish([messages.wire(marker)])  # the worker still runs after all that
    wait(lambda: store.count("messages") == N_VALID + 1, timeout_s=30, what="marker stored")

    # each malformed payload quarantined once, with the reason of its class
    quarantined = store.quarantine(None, limit=len(bad) + 10)
    by_payload = {(q["topic"], q["payload"]): q for q in quarantined}
    failures = []
    for b in bad:
        key = (b.topic, b.payload[:65536])
        q = by_payload.get(key)
        if q is None:
            failures.append(f"{b.cls}: not quarantined")
        elif reason_code(q["reason"]) != b.code or b.needle not in q["reason"]:
            failures.append(f"{b.cls}: {q['reason']!r}")
    assert not failures, f"{len(failures)} wrong, e.g. {Counter(failures).most_common(5)}"

    # nothing valid lost or doubled
    rows = store.readings(tenant_id, limit=10 * N_VALID)
    assert sorted(r["value"] for r in rows) == [-12345.0] + [float(i) for i in range(N_VALID)]
    assert len({r["message_id"] for r in rows}) == N_VALID + 1
    assert store.count("messages") == N_VALID + 1
    wait(lambda: worker.metrics.get("stored") == N_VALID + 1, what="stored counted")
    assert worker.metrics.get("duplicates") == redelivered

    expected = Counter(b.code for b in bad)
    expected_bad_ids = sum(b.cls == "bad_station_id" for b in bad)
    assert Counter(reason_code(q["reason"]) for q in quarantined) == expected
    # the tenant is known for every class whose topic names valid identifiers
    tenants = Counter(q["tenant"] for q in quarantined)
    assert tenants == {tenant_id: len(bad) - expected_bad_ids, None: expected_bad_ids}
    for code, n in expected.items():
        assert worker.metrics.get(f"quarantined:{code}") == n, code
        assert f'labcal_ingest_quarantined_total{{reason="{code}"}} {n}' in (
            worker.metrics.prometheus()
        )
    assert len(expected) == 9  # json schema topic version mismatch tenant station conflict oversize
