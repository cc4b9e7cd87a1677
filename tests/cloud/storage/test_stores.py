"""Both adapters, for real: idempotent batches, stations, tokens, reads scoped by tenant."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from labcal_cloud.ingest.core import Incoming, build_batch
from labcal_cloud.storage.ports import StationExistsError, StationRecord
from labcal_shared.contracts import Reading

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


def test_same_station_sequence_with_another_id_is_a_conflict(store, messages):
    env = messages.reading()
    store.write_batch(batch_of(messages, [env]))
    clash = env.model_copy(update={"message_id": messages.reading().message_id})
    result = store.write_batch(batch_of(messages, [clash]))
    assert (result.stored, result.duplicates, result.quarantined) == (0, 0, 1)
    assert result.conflicts == (clash.message_id,)
    assert store.count("readings", messages.tenant) == 1
    (row,) = store.quarantine(messages.tenant)
    assert row["reason"] == (
        f"conflict: station {messages.station!r} seq {env.seq} is stored already as message "
        f"{env.message_id} (message {clash.message_id} refused)"
    )
    assert bytes(row["payload"]) == messages.wire(clash)[1]


def test_a_replayed_id_with_other_content_is_a_conflict_not_a_duplicate(store, messages):
    env = messages.reading(1.0)
    again = messages.wire(env)
    store.write_batch(batch_of(messages, [env]))
    other = env.model_copy(update={"payload": Reading(value=2.0, unit="mg", stable=True)})
    fresh = messages.reading(3.0)
    result = store.write_batch(batch_of(messages, [other, fresh]))
    assert (result.stored, result.duplicates, result.quarantined) == (1, 0, 1)
    assert result.conflicts == (env.message_id,)
    result = store.write_batch(batch_of(messages, [env]))  # the same content: a redelivery
    assert (result.stored, result.duplicates, result.conflicts) == (0, 1, ())
    assert sorted(r["value"] for r in store.readings(messages.tenant)) == [1.0, 3.0]
    (row,) = store.quarantine(messages.tenant)
    assert row["reason"].startswith(f"conflict: message id {env.message_id} is stored already")
    assert bytes(row["payload"]) == messages.wire(other)[1] != again[1]
    # the conflicting copy redelivered: still one quarantine row, still not stored
    result = store.write_batch(batch_of(messages, [other]))
    assert (result.stored, result.duplicates, result.quarantined) == (0, 0, 0)
    assert result.conflicts == (env.message_id,)
    assert store.count("quarantine", messages.tenant) == 1


def test_quarantine_keeps_a_redelivered_bad_message_once(store, messages):
    bad = Incoming(messages.wire(messages.reading())[0], b"not json", NOW)
    for _ in range(2):
        store.write_batch(build_batch([bad], {messages.station: messages.tenant}.get)[0])
    rows = store.quarantine(messages.tenant)
    assert len(rows) == 1
    assert bytes(rows[0]["payload"]) == b"not json"
    assert rows[0]["reason"].startswith("json: not valid JSON")


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


def test_reads_agree_with_a_brute_force_answer_on_overlapping_series(store, messages):
    """Random single readings and batches (values at random times, so series overlap), then
    many reads with random filters and limits: each must be exactly the first ``limit`` of every
    stored value that matches, in (time, message id, idx) order. On PostgreSQL this checks the
    bound that skips whole series without unnesting them (``read_queries._series_bound``)."""
    import random
    from datetime import timedelta

    from labcal_shared.contracts import DeviceRef, Reading, ReadingBatch

    rng = random.Random(8655)
    t0 = NOW - timedelta(days=1)
    devices = [DeviceRef(type="balance", make="MT", model="XS", serial=s) for s in ("B1", "B2")]

    def at(seconds: float) -> datetime:
        return t0 + timedelta(seconds=seconds)

    envs, every = [], []  # every: (time, message id, idx, serial, value)
    for _ in range(60):
        device = rng.choice(devices)
        if rng.random() < 0.4:
            when, value = at(rng.uniform(0, 1000)), rng.uniform(0, 1)
            env = messages.envelope(Reading(value=value, unit="mg", stable=True), device=device)
            env = env.model_copy(update={"device_time": when})
            every.append((when, env.message_id, 0, device.serial, value))
        else:
            start = rng.uniform(0, 900)
            times = sorted(at(start + rng.uniform(0, 200)) for _ in range(rng.randint(1, 40)))
            rng.shuffle(times)  # values need not be in time order inside a batch
            values = [{"value": float(i), "unit": "mg", "stable": True, "device_time": t}
                      for i, t in enumerate(times)]  # fmt: skip
            env = messages.envelope(ReadingBatch(readings=values), device=device)
            every += [(t, env.message_id, i, device.serial, float(i)) for i, t in enumerate(times)]
        envs.append(env)
    store.write_batch(batch_of(messages, envs))
    every.sort(key=lambda r: (r[0], str(r[1]), r[2]))

    for _ in range(80):
        serial = rng.choice([None, "B1", "B2"])
        since = at(rng.uniform(-50, 1100)) if rng.random() < 0.6 else None
        until = at(rng.uniform(-50, 1200)) if rng.random() < 0.6 else None
        limit = rng.choice([1, 2, 5, 17, 50, 200, 5000])
        want = [
            (t, str(m), i, v)
            for t, m, i, s, v in every
            if (serial is None or s == serial)
            and (since is None or t >= since)
            and (until is None or t < until)
        ][:limit]
        got = store.readings(
            messages.tenant, device_serial=serial, since=since, until=until, limit=limit
        )
        times = [
            t if isinstance(t, datetime) else datetime.fromisoformat(t)
            for t in (r["time"] for r in got)
        ]  # SQLite: ISO text
        assert [
            (t, str(r["message_id"]), r["idx"], r["value"]) for t, r in zip(times, got, strict=True)
        ] == want
