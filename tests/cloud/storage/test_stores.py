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


def test_postgres_staging_tables_are_reused_and_truncated(fresh_database_url, tenant_id, msgs):
    from labcal_cloud.storage.postgres_store import PostgresStore

    store = PostgresStore(fresh_database_url, truncate_after_rows=15)
    try:
        store.migrate()
        store.add_station(StationRecord("st-1", tenant_id, "$7$101$x$y"))

        for _ in range(6):  # crosses the truncate threshold twice; every batch stays exact
            envs = [msgs.reading(), msgs.batch(3), msgs.usage(5)]
            result = store.write_batch(batch_of(msgs, envs))
            assert (result.stored, result.duplicates) == (3, 0)
        assert store.count("messages", tenant_id) == 18
        assert store.count("readings", tenant_id) == 6 * 4
        assert store.count("usage_reports", tenant_id) == 6
    finally:
        store.close()
