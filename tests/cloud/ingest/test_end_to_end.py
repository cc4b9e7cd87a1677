"""Ingest against the real broker and both databases: stored once, acked after commit,
quarantined with a reason, shared between workers."""

from __future__ import annotations

import signal

from labcal_cloud.storage.ports import StationRecord
from labcal_cloud.storage.rows import columns


def test_every_kind_of_message_is_stored_once(store, messages, publisher, start_worker, wait):
    envs = [
        messages.reading(),
        messages.batch(5),
        messages.usage(1200),
        messages.event(),
        messages.status(),
        messages.run(),
    ]
    start_worker()
    publisher.publish([messages.wire(e) for e in envs])
    wait(lambda: store.count("messages", messages.tenant) == len(envs), what="all stored")
    assert store.count("readings", messages.tenant) == 1 + 5
    assert store.count("usage_reports", messages.tenant) == 1
    assert store.count("device_events", messages.tenant) == 1
    assert store.count("runs", messages.tenant) == 1
    assert store.count("quarantine", messages.tenant) == 0
    values = sorted(r["value"] for r in store.readings(messages.tenant))
    assert values == [0.0, 1.0, 2.0, 3.0, 4.0, 997.0]


def test_a_message_delivered_twice_is_stored_once(store, messages, publisher, start_worker, wait):
    worker = start_worker()
    first = [messages.reading(float(i)) for i in range(20)]
    publisher.publish([messages.wire(e) for e in first])
    wait(lambda: store.count("messages", messages.tenant) == 20, what="first delivery stored")
    # the same 20 messages again (as after an edge restart), plus one new message as a marker
    marker = messages.reading(-1.0)
    publisher.publish([messages.wire(e) for e in first] + [messages.wire(marker)])
    wait(lambda: worker.metrics.get("received") == 41, what="redelivery received")
    wait(lambda: store.count("messages", messages.tenant) == 21, what="marker stored")
    assert store.count("readings", messages.tenant) == 21
    # counters are updated just after the commit (and the ack): wait for them, don't race them
    wait(lambda: worker.metrics.get("duplicates") == 20, what="duplicates counted")


def test_wrong_tenant_unknown_station_and_malformed_are_quarantined(
    store, messages, publisher, start_worker, wait, tenant_id
):
    # a station of another tenant publishes under this tenant's prefix
    foreign_station = f"{messages.station}-x"
    store.add_station(StationRecord(foreign_station, f"{tenant_id}-other", "$7$1$x$y"))
    worker = start_worker()
    good = messages.reading()
    foreign = messages.reading().model_copy(update={"station": foreign_station})
    unknown = messages.reading().model_copy(update={"station": "never-registered"})
    topic = messages.wire(good)[0]
    publisher.publish(
        [
            messages.wire(good),
            messages.wire(foreign),
            messages.wire(unknown),
            (topic, b'{"schema_version": 1, "garbage": true'),  # not JSON
            (topic, messages.wire(messages.usage(5))[1]),  # a usage report on a reading topic
            (topic, b'{"schema_version": 9}'),
        ]
    )
    wait(lambda: worker.metrics.get("received") == 6, what="all six received")
    wait(lambda: store.count("quarantine", tenant_id) == 5, what="five quarantined")
    assert store.count("messages", tenant_id) == 1
    rows = store.quarantine(tenant_id)
    reasons = sorted(r["reason"].partition(":")[0] for r in rows)
    assert reasons == ["json", "mismatch", "station", "tenant", "version"]
    by_code = {r["reason"].partition(":")[0]: r for r in rows}
    assert f"{tenant_id}-other" in by_code["tenant"]["reason"]
    assert bytes(by_code["tenant"]["payload"]) == messages.wire(foreign)[1]
    assert by_code["station"]["station"] == "never-registered"
    assert "unsupported schema_version 9" in " ".join(r["reason"] for r in rows)
    wait(lambda: worker.metrics.get("quarantined:json") == 1, what="json counted")
    assert worker.metrics.get("quarantined:mismatch") == 1
    assert worker.metrics.get("quarantined:version") == 1
    wait(lambda: worker.metrics.get("stored") == 1, what="stored counted")


def test_two_workers_share_the_load_without_duplicates(
    store, messages, publisher, start_worker, wait
):
    a = start_worker(ingest_client_id=f"{messages.station}-a")
    b = start_worker(ingest_client_id=f"{messages.station}-b")
    envs = [messages.reading(float(i)) for i in range(400)]
    publisher.publish([messages.wire(e) for e in envs])
    wait(lambda: store.count("messages", messages.tenant) == 400, what="all stored")
    wait(lambda: a.metrics.get("stored") + b.metrics.get("stored") == 400, what="stored counted")
    assert a.metrics.get("stored") > 0
    assert b.metrics.get("stored") > 0
    assert a.metrics.get("stored") + b.metrics.get("stored") == 400
    assert a.metrics.get("duplicates") + b.metrics.get("duplicates") == 0
    ids = {r["message_id"] for r in store.readings(messages.tenant, limit=10_000)}
    assert len(ids) == 400


def test_worker_killed_mid_batch_loses_nothing(
    store, messages, publisher, spawn_worker, worker_settings, wait
):
    # the fault switch holds each batch uncommitted for a moment, so a kill lands mid-batch
    proc = spawn_worker(worker_settings, "--fault-pause-before-commit", "0.3", "--max-batch", "50")
    envs = [messages.reading(float(i)) for i in range(600)]
    publisher.publish([messages.wire(e) for e in envs])
    wait(lambda: store.count("messages", messages.tenant) > 0, what="a first commit")
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    stored_at_kill = store.count("messages", messages.tenant)
    assert stored_at_kill < 600, "the worker finished before it was killed; nothing was tested"
    # same client id: the broker redelivers what the dead worker never acked
    spawn_worker(worker_settings)
    wait(lambda: store.count("messages", messages.tenant) == 600, what="everything stored")
    assert store.count("readings", messages.tenant) == 600
    got = sorted(r["value"] for r in store.readings(messages.tenant, limit=10_000))
    assert got == [float(i) for i in range(600)]


def test_row_types_match_the_tables(store):
    # the adapters write rows by column name; a drift between rows.py and a migration fails here
    from labcal_cloud.storage.rows import MessageRow, ReadingRow

    assert columns(MessageRow)[0] == "message_id"
    assert columns(ReadingRow)[:2] == ("message_id", "idx")
    assert store.count("messages") == 0


def test_a_message_the_database_cannot_hold_is_quarantined_alone(
    store, store_url, messages, publisher, start_worker, wait
):
    worker = start_worker()
    nul = messages.event(detail="bad\u0000byte")
    good = [messages.reading(1.0), messages.reading(2.0)]
    publisher.publish([messages.wire(good[0]), messages.wire(nul), messages.wire(good[1])])
    wait(lambda: worker.metrics.get("received") == 3, what="all received")
    if store_url.startswith("postgresql"):  # PostgreSQL text cannot hold NUL; SQLite can
        wait(lambda: store.count("quarantine", messages.tenant) == 1, what="quarantined")
        (row,) = store.quarantine(messages.tenant)
        assert row["reason"].startswith("storage:")
        assert bytes(row["payload"]) == messages.wire(nul)[1]
        wait(lambda: store.count("messages", messages.tenant) == 2, what="the others stored")
    else:
        wait(lambda: store.count("messages", messages.tenant) == 3, what="all stored")
    assert store.count("readings", messages.tenant) == 2
