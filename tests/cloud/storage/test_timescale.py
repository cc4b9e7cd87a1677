"""The TimescaleDB path is generated SQL (no TimescaleDB here): check what it says."""

from __future__ import annotations

from labcal_cloud.storage.migration_plan import Features
from labcal_cloud.storage.migrations.postgres.m0002_time_series import statements
from labcal_cloud.storage.timescale import HYPERTABLES, plain_statements, timescale_statements


def test_hypertables_have_keys_with_time_then_compression_and_aggregate():
    sql = timescale_statements()
    assert sql[0] == "CREATE EXTENSION IF NOT EXISTS timescaledb"
    for t in HYPERTABLES:
        drop = f"ALTER TABLE {t.table} DROP CONSTRAINT {t.table}_pkey"
        add = f"ALTER TABLE {t.table} ADD PRIMARY KEY ({', '.join((*t.key, 'time'))})"
        create = next(s for s in sql if s.startswith(f"SELECT create_hypertable('{t.table}'"))
        assert sql.index(drop) < sql.index(add) < sql.index(create)
        assert "by_range('time'" in create
    assert (
        "ALTER TABLE readings SET (timescaledb.compress, timescaledb.compress_segmentby = "
        "'tenant, device_serial', timescaledb.compress_orderby = 'time DESC')" in sql
    )
    assert "SELECT add_compression_policy('readings', INTERVAL '7 days')" in sql
    assert not any("add_compression_policy('device_events'" in s for s in sql)
    cagg = next(s for s in sql if s.startswith("CREATE MATERIALIZED VIEW usage_daily"))
    assert "WITH (timescaledb.continuous)" in cagg
    assert "time_bucket(INTERVAL '1 day', time) AS day" in cagg
    assert any(s.startswith("SELECT add_continuous_aggregate_policy('usage_daily'") for s in sql)


def test_plain_path_has_time_indexes_and_a_view():
    sql = plain_statements()
    assert (
        "CREATE INDEX readings_tenant_device_serial_time ON readings (tenant, device_serial, time)"
        in sql
    )
    assert any(s.startswith("CREATE VIEW usage_daily AS") for s in sql)
    assert not any("timescaledb" in s or "hypertable" in s for s in sql)


def test_migration_picks_the_path_from_the_server_features():
    assert statements(Features(timescaledb=True)) == timescale_statements()
    assert statements(Features(timescaledb=False)) == plain_statements()


def test_reading_series_is_a_hypertable_on_first_time_with_timescaledb():
    from labcal_cloud.storage.migrations.postgres.m0003_reading_series import (
        statements as series_statements,
    )
    from labcal_cloud.storage.timescale import reading_series_statements

    sql = reading_series_statements(timescaledb=True)
    assert series_statements(Features(timescaledb=True)) == sql
    assert sql[0].startswith("CREATE TABLE reading_series (")
    add = "ALTER TABLE reading_series ADD PRIMARY KEY (message_id, first_time)"
    create = next(s for s in sql if s.startswith("SELECT create_hypertable('reading_series'"))
    assert sql.index(add) < sql.index(create)
    assert "by_range('first_time', INTERVAL '1 day')" in create
    assert "SELECT add_compression_policy('reading_series', INTERVAL '7 days')" in sql
    assert sql[-1].startswith("CREATE VIEW all_readings AS")


def test_reading_series_has_plain_time_indexes_without_timescaledb():
    from labcal_cloud.storage.timescale import reading_series_statements

    sql = reading_series_statements(timescaledb=False)
    assert (
        "CREATE INDEX reading_series_tenant_device_serial_first_time ON reading_series "
        "(tenant, device_serial, first_time)" in sql
    )
    assert not any("timescaledb" in s or "hypertable" in s for s in sql)
