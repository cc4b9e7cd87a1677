"""The ingest loop against fakes at its ports: ack only after commit, pause and retry on outage,
isolate a message the database refuses."""

from __future__ import annotations

from datetime import UTC, datetime

from labcal_cloud.ingest.core import Incoming
from labcal_cloud.ingest.directory import StationDirectory
from labcal_cloud.ingest.loop import IngestLoop
from labcal_cloud.ingest.metrics import IngestMetrics
from labcal_cloud.storage.errors import StorageError, StorageUnavailableError
from labcal_cloud.storage.ports import WriteResult
from labcal_cloud.storage.rows import Batch

NOW = datetime(2026, 11, 23, tzinfo=UTC)


class FakeSource:
    def __init__(self, items):
        self.pending = list(items)
        self.acked: list[Incoming] = []
        self.log: list[str] = []

    def next_batch(self, max_items, timeout_s, max_bytes):
        out, self.pending = self.pending[:max_items], self.pending[max_items:]
        return out

    def ack(self, items):
        self.log.append("ack")
        self.acked += items


class FakeStore:
    concurrent_writes = True

    def __init__(self, source, failures=(), refuse=None):
        self.failures = list(failures)
        self.source = source
        self.refuse = refuse
        self.batches: list[Batch] = []

    def write_batch(self, batch):
        if self.failures:
            raise self.failures.pop(0)
        if self.refuse is not None and any(m.seq == self.refuse for m in batch.messages):
            raise StorageError("value out of range")
        self.source.log.append("commit")
        self.batches.append(batch)
        return WriteResult(len(batch.messages), 0, len(batch.quarantine))

    def station_tenants(self):
        return {}


def make_loop(source, store, msgs, sleeps):
    def sleep(s):
        sleeps.append(s)
        return len(sleeps) < 100

    directory = StationDirectory(lambda: {msgs.station: msgs.tenant}, lambda: 0.0)
    return IngestLoop(
        source, store, directory, IngestMetrics(), sleep=sleep, jitter=lambda: 1.0, max_batch=10
    )


def items_of(msgs, n):
    return [Incoming(*msgs.wire(msgs.reading(float(i))), NOW, mid=i + 1) for i in range(n)]


def test_acks_follow_the_commit(msgs):
    source = FakeSource(items_of(msgs, 15))
    store = FakeStore(source)
    loop = make_loop(source, store, msgs, [])
    assert loop.step()
    assert loop.step()
    assert not loop.step()
    assert source.log == ["commit", "ack", "commit", "ack"]
    assert [i.mid for i in source.acked] == list(range(1, 16))
    assert loop.metrics.get("stored") == 15


def test_outage_pauses_without_ack_then_resumes_with_backoff(msgs):
    source = FakeSource(items_of(msgs, 3))
    down = StorageUnavailableError("connection refused")
    store = FakeStore(source, failures=[down, down, down])
    sleeps: list[float] = []
    loop = make_loop(source, store, msgs, sleeps)
    assert loop.step()
    assert sleeps == [0.2, 0.4, 0.8]
    assert source.log == ["commit", "ack"]
    assert loop.metrics.get("storage_errors") == 3
    assert len(store.batches[0].messages) == 3


def test_stop_during_outage_acks_nothing(msgs):
    source = FakeSource(items_of(msgs, 3))
    store = FakeStore(source, failures=[StorageUnavailableError("down")] * 1000)
    loop = make_loop(source, store, msgs, [])
    assert not loop.step()
    assert source.acked == []


def test_a_message_the_database_refuses_is_quarantined_alone(msgs):
    items = items_of(msgs, 4)
    source = FakeSource(items)
    store = FakeStore(source, refuse=2)  # seq 2 cannot be stored
    loop = make_loop(source, store, msgs, [])
    assert loop.step()
    assert len(source.acked) == 4
    stored = [m.seq for b in store.batches for m in b.messages]
    assert stored == [1, 3, 4]
    quarantined = [q for b in store.batches for q in b.quarantine]
    assert len(quarantined) == 1
    assert quarantined[0].reason.startswith("storage: value out of range")
    assert quarantined[0].payload == items[1].payload
    assert (quarantined[0].tenant, quarantined[0].station) == (msgs.tenant, msgs.station)


def test_a_failing_listener_never_blocks_ingest(msgs):
    source = FakeSource(items_of(msgs, 2))
    store = FakeStore(source)
    loop = make_loop(source, store, msgs, [])

    def boom(batch, result):
        raise RuntimeError("mirror down")

    loop._listeners.append(boom)
    assert loop.step()
    assert len(source.acked) == 2
    assert loop.metrics.get("listener_errors") == 1


def test_directory_reloads_on_a_miss_at_most_every_refresh_interval():
    loads = []
    now = [0.0]

    def load():
        loads.append(now[0])
        return {"s1": "t1"} if now[0] < 5 else {"s1": "t1", "s2": "t2"}

    d = StationDirectory(load, lambda: now[0], refresh_s=2.0)
    assert d.tenant_of("s1") == "t1"
    assert d.tenant_of("s2") is None
    now[0] = 1.0
    assert d.tenant_of("s2") is None
    assert loads == [0.0]
    now[0] = 6.0
    assert d.tenant_of("s2") == "t2"
    assert loads == [0.0, 6.0]


def test_batches_commit_at_once_but_ack_in_the_order_they_were_taken(msgs):
    """With two committers, the second batch commits while the first is still in the database;
    the first is acked first all the same."""
    import threading

    source = FakeSource(items_of(msgs, 20))  # two batches of 10
    second_committed = threading.Event()

    class SlowFirstStore(FakeStore):
        def write_batch(self, batch):
            if batch.messages[0].seq == 1:  # the first batch waits for the second's commit
                assert second_committed.wait(10)
                return super().write_batch(batch)
            result = super().write_batch(batch)
            second_committed.set()
            return result

    store = SlowFirstStore(source)
    directory = StationDirectory(lambda: {msgs.station: msgs.tenant}, lambda: 0.0)
    loop = IngestLoop(
        source,
        store,
        directory,
        IngestMetrics(),
        sleep=lambda s: True,
        jitter=lambda: 1.0,
        max_batch=10,
        committers=2,
    )
    loop.run(should_stop=lambda: not source.pending and loop.metrics.get("batches") == 2)
    assert [b.messages[0].seq for b in store.batches] == [11, 1]  # committed out of order
    assert source.log == ["commit", "commit", "ack", "ack"]
    assert [i.mid for i in source.acked] == list(range(1, 21))  # acked in order
    assert loop.metrics.get("stored") == 20


def test_a_committer_count_below_one_is_refused(msgs):
    import pytest

    with pytest.raises(ValueError, match="committers must be >= 1"):
        IngestLoop(
            FakeSource([]),
            FakeStore(None),
            StationDirectory(dict, lambda: 0.0),
            IngestMetrics(),
            sleep=lambda s: True,
            jitter=lambda: 1.0,
            committers=0,
        )


def test_a_batch_that_conflicts_with_one_still_committing_waits_for_it(msgs):
    """Two committers, and the second batch holds a message with the id of one in the first, with
    other content: it must not commit first (the first arrival wins), unlike the test above."""
    import json
    import threading

    first = items_of(msgs, 10)
    original = first[3]
    # the same message id and seq as the 4th message of the first batch, another value
    doc = json.loads(original.payload)
    doc["payload"]["value"] = -1.0
    replay = Incoming(original.topic, json.dumps(doc).encode(), NOW, mid=100)
    second = [replay] + [
        Incoming(*msgs.wire(msgs.reading(float(i))), NOW, mid=200 + i) for i in range(9)
    ]
    source = FakeSource(first + second)
    order: list[str] = []
    first_may_finish = threading.Event()

    class SlowFirstStore(FakeStore):
        def write_batch(self, batch):
            if batch.messages[0].seq == 1:
                order.append("first starts")
                first_may_finish.wait(0.5)  # long enough for the second to overtake, if allowed
                order.append("first ends")
            else:
                order.append("second starts")
                first_may_finish.set()
            return super().write_batch(batch)

    store = SlowFirstStore(source)
    directory = StationDirectory(lambda: {msgs.station: msgs.tenant}, lambda: 0.0)
    loop = IngestLoop(
        source,
        store,
        directory,
        IngestMetrics(),
        sleep=lambda s: True,
        jitter=lambda: 1.0,
        max_batch=10,
        committers=2,
    )
    loop.run(should_stop=lambda: not source.pending and loop.metrics.get("batches") == 2)
    assert order == ["first starts", "first ends", "second starts"]
    assert [i.mid for i in source.acked] == [i.mid for i in first + second]
