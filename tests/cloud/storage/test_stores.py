"""Both adapters, for real: idempotent batches, stations, tokens, reads scoped by tenant."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from labcal_cloud.ingest.core import Incoming, build_batch
from labcal_cloud.storage.ports import StationExistsError, StationRecord

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


def batch_of(messages, envs, lookup=None):
    lookup = lookup or {messages.station: messages.tenant}.get
    items = [Incoming(*messages.wire(e), NOW) for e in envs]
    return build_batch(items, lookup)[0]


def test_write_batch_is_idempotent(store, messages):
    envs = [
        messages.reading(),
        messages.batch(4),
        messages.usage(10),
        messages.event(),
        messages.run(),
    ]
    first = store.write_batch(batch_of(messages, envs))
    assert (first.stored, first.duplicates) == (5, 0)
    again = store.write_batch(batch_of(messages, [*envs, messages.reading()]))
    assert (again.stored, again.duplicates) == (1, 5)
    assert store.count("messages", messages.tenant) == 6
    assert store.count("readings", messages.tenant) == 1 + 4 + 1
    assert store.count("usage_reports", messages.tenant) == 1
    assert store.count("runs", messages.tenant) == 1
    assert store.count("device_events", messages.tenant) == 1


def test_same_station_sequence_with_another_id_is_not_stored_twice(store, messages):
    env = messages.reading()
    store.write_batch(batch_of(messages, [env]))
    clash = env.model_copy(update={"message_id": messages.reading().message_id})
    result = store.write_batch(batch_of(messages, [clash]))
    assert (result.stored, result.duplicates) == (0, 1)
    assert store.count("readings", messages.tenant) == 1


def test_quarantine_keeps_a_redelivered_bad_message_once(store, messages):
    bad = Incoming(messages.wire(messages.reading())[0], b"not json", NOW)
    for _ in range(2):
        store.write_batch(build_batch([bad], {messages.station: messages.tenant}.get)[0])
    rows = store.quarantine(messages.tenant)
    assert len(rows) == 1
    assert bytes(rows[0]["payload"]) == b"not json"
    assert rows[0]["reason"].startswith("contract: not valid JSON")


def test_stations_and_tokens(store, tenant_id):
    store.add_station(StationRecord("st-a", tenant_id, "$7$101$x$y"))
    with pytest.raises(StationExistsError):
        store.add_station(StationRecord("st-a", "someone-else", "$7$101$x$y"))
    assert store.station_tenants()["st-a"] == tenant_id
    assert [s.station for s in store.list_stations(tenant_id)] == ["st-a"]
    store.add_api_token(tenant_id, "ab" * 32, "ci")
    assert store.tenant_for_token("ab" * 32) == tenant_id
    assert store.tenant_for_token("cd" * 32) is None


def test_reads_are_filtered_by_tenant_time_and_device(store, messages):
    envs = [messages.reading(float(i)) for i in range(5)] + [
        messages.usage(100),
        messages.usage(150),
    ]
    store.write_batch(batch_of(messages, envs))
    rows = store.readings(messages.tenant)
    assert [r["value"] for r in rows] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert rows[0]["stable"] is True
    since = envs[2].device_time
    assert [r["value"] for r in store.readings(messages.tenant, since=since)] == [2.0, 3.0, 4.0]
    assert store.readings(messages.tenant, device_serial="nope") == []
    assert store.readings("another-tenant") == []
    usage = store.usage(messages.tenant, "P0001")
    assert [u["cycles_total"] for u in usage] == [100, 150]
    daily = store.usage_daily(messages.tenant, "P0001")
    assert [(d["cycles_min"], d["cycles_max"], d["reports"]) for d in daily] == [(100, 150, 2)]
    assert store.usage("another-tenant", "P0001") == []


def test_batched_and_single_readings_read_back_as_one_time_ordered_list(store, messages):
    from datetime import timedelta

    from labcal_shared.contracts import ReadingBatch

    t0 = datetime(2026, 11, 23, 10, tzinfo=UTC)  # after the envelopes' own times (from 09:00)
    s = timedelta(seconds=1)
    # values of one batch out of time order, an overload (no value), one value without a time
    batch = messages.envelope(
        ReadingBatch(
            readings=[
                {"value": 10.0, "unit": "g", "stable": True, "device_time": t0 + 30 * s},
                {"value": 11.0, "unit": "g", "stable": False, "device_time": t0 + 10 * s},
                {"unit": "g", "stable": False, "status": "overload", "device_time": t0 + 20 * s},
            ]
        )
    )
    single = messages.reading(5.0)  # at its envelope's device_time (09:00:02)
    other = messages.batch(2)  # both values at the envelope's device_time (09:00:03)
    store.write_batch(batch_of(messages, [batch, single, other]))

    rows = store.readings(messages.tenant)
    assert [(r["value"], r["idx"], r["status"]) for r in rows] == [
        (5.0, 0, "ok"),
        (0.0, 0, "ok"),
        (1.0, 1, "ok"),
        (11.0, 1, "ok"),
        (None, 2, "overload"),
        (10.0, 0, "ok"),
    ]
    assert rows[3]["stable"] is False
    assert rows[3]["unit"] == "g"
    assert str(rows[3]["message_id"]) == str(batch.message_id)
    # a time range cuts through a series: only its values inside the range come back
    window = store.readings(messages.tenant, since=t0 + 15 * s, until=t0 + 30 * s)
    assert [(r["idx"], r["status"]) for r in window] == [(2, "overload")]
    assert [r["idx"] for r in store.readings(messages.tenant, since=t0 + 10 * s)] == [1, 2, 0]
    assert store.readings(messages.tenant, until=t0) == rows[:3]
    assert store.readings(messages.tenant, station="elsewhere") == []
    assert len(store.readings(messages.tenant, station=messages.station, limit=4)) == 4
    assert store.readings(messages.tenant, device_serial="nope", since=t0) == []
    assert store.readings("another-tenant") == []
    assert store.count("readings", messages.tenant) == 6
    assert store.count("readings", "another-tenant") == 0


def test_postgres_keeps_a_batch_as_one_series_row_and_a_view_of_every_value(
    fresh_database_url, tenant_id, msgs
):
    import psycopg

    from labcal_cloud.storage.postgres_store import PostgresStore

    store = PostgresStore(fresh_database_url)
    try:
        store.migrate()
        store.add_station(StationRecord("st-1", tenant_id, "$7$101$x$y"))
        envs = [msgs.batch(100), msgs.batch(3), msgs.reading(2.5)]
        store.write_batch(batch_of(msgs, envs))
        store.write_batch(batch_of(msgs, envs))  # redelivered: nothing new
    finally:
        store.close()
    with psycopg.connect(fresh_database_url) as conn:
        series = conn.execute(
            "SELECT cardinality(vals), first_time <= last_time FROM reading_series ORDER BY 1"
        ).fetchall()
        assert series == [(3, True), (100, True)]
        assert conn.execute("SELECT count(*) FROM readings").fetchone() == (1,)
        view = conn.execute(
            "SELECT count(*), count(DISTINCT (message_id, idx)), sum(value) FROM all_readings"
        ).fetchone()
        assert view == (104, 104, sum(range(100)) + sum(range(3)) + 2.5)


def test_postgres_staging_tables_are_reused_and_truncated(fresh_database_url, tenant_id, msgs):
    from labcal_cloud.storage.postgres_store import PostgresStore

    store = PostgresStore(fresh_database_url, truncate_after_rows=15)
    try:
        store.migrate()
        store.add_station(StationRecord("st-1", tenant_id, "$7$101$x$y"))

        old = msgs.reading()
        store.write_batch(batch_of(msgs, [old]))
        for _ in range(6):  # crosses the truncate threshold twice; every batch stays exact
            envs = [msgs.reading(), msgs.batch(3), msgs.usage(5)]
            result = store.write_batch(batch_of(msgs, [old, *envs]))  # a redelivery: staged
            assert (result.stored, result.duplicates) == (3, 1)
            old = envs[0]
        assert store.count("messages", tenant_id) == 19
        assert store.count("readings", tenant_id) == 1 + 6 * 4
        assert store.count("usage_reports", tenant_id) == 6
    finally:
        store.close()


def test_postgres_stores_the_same_rows_straight_or_staged(fresh_database_url, tenant_id, msgs):
    """A batch of new messages is copied straight into the tables; one with a message stored
    before goes through the staging tables. Both must store the same values, JSON included."""
    import json

    import psycopg

    from labcal_cloud.storage.postgres_store import PostgresStore

    def every_kind() -> list:
        return [
            msgs.reading(),
            msgs.batch(3),
            msgs.usage(7),
            msgs.event(),
            msgs.status(),
            msgs.run(),
        ]

    store = PostgresStore(fresh_database_url)
    try:
        store.migrate()
        store.add_station(StationRecord("st-1", tenant_id, "$7$101$x$y"))
        straight, staged = every_kind(), every_kind()
        written = [batch_of(msgs, straight), batch_of(msgs, [straight[0], *staged])]
        results = [store.write_batch(b) for b in written]
    finally:
        store.close()
    assert [(r.stored, r.duplicates) for r in results] == [(6, 0), (6, 1)]
    expected = {
        m.message_id: (m.kind, m.seq, m.payload_json and json.loads(m.payload_json))
        for b in written
        for m in b.messages
    }
    runs = {r.message_id: json.loads(r.payload_json) for b in written for r in b.runs}
    with psycopg.connect(fresh_database_url) as conn:
        stored = {
            r[0]: (r[1], r[2], r[3])
            for r in conn.execute("SELECT message_id, kind, seq, payload_json FROM messages")
        }
        stored_runs = dict(conn.execute("SELECT message_id, payload_json FROM runs").fetchall())
        kinds = conn.execute(
            "SELECT (SELECT count(*) FROM readings), (SELECT count(*) FROM reading_series), "
            "(SELECT count(*) FROM usage_reports), (SELECT count(*) FROM device_events)"
        ).fetchone()
    assert stored == expected
    assert any(p for _k, _s, p in stored.values())  # some messages carry JSON
    assert stored_runs == runs
    assert len(runs) == 2
    assert kinds == (2, 2, 2, 2)
