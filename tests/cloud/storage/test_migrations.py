"""Migration discovery and ordering (pure) and applying them to both backends (real)."""

from __future__ import annotations

import pytest

from labcal_cloud.storage import open_store
from labcal_cloud.storage.errors import MigrationError
from labcal_cloud.storage.migration_plan import (
    VERSION_RANGES,
    Features,
    Migration,
    discover,
    order_migrations,
    parse_name,
    pending,
)


def mig(version: int, package: str = "labcal_cloud.storage.migrations") -> Migration:
    return Migration(version, f"m{version}", package, lambda f: [f"-- {version}"])


def test_parse_names():
    assert parse_name("0001_core.sql") == (1, "core", "sql")
    assert parse_name("m0102_due_state.py") == (102, "due_state", "py")
    assert parse_name("__init__.py") is None
    assert parse_name("README.md") is None
    with pytest.raises(MigrationError, match=r"mNNNN_name\.py"):
        parse_name("0003_oops.py")


def test_order_is_by_version_across_packages():
    engine = "labcal_cloud.engine.migrations"
    ordered = order_migrations([mig(101, engine), mig(2), mig(1)], VERSION_RANGES)
    assert [m.version for m in ordered] == [1, 2, 101]
    assert [m.version for m in pending(ordered, {1})] == [2, 101]


def test_duplicate_versions_are_refused():
    with pytest.raises(MigrationError, match="used twice"):
        order_migrations([mig(3), mig(3)], VERSION_RANGES)


def test_a_package_may_not_leave_its_range():
    with pytest.raises(MigrationError, match="outside its range 0100-0199"):
        order_migrations([mig(5, "labcal_cloud.engine.migrations")], VERSION_RANGES)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_shipped_migrations_are_found_for_each_backend(backend):
    found = discover(backend)
    assert [m.version for m in found][:2] == [1, 2]
    assert all(m.statements(Features()) for m in found)


def test_unknown_migration_package_is_a_clear_error():
    with pytest.raises(MigrationError, match="not found"):
        discover("sqlite", ["labcal_cloud.no_such_package"])


def test_migrate_applies_once_and_records_versions(store_url):
    store = open_store(store_url)
    try:
        assert store.migrate() == []  # the fixture migrated already
        assert store.count("messages") == 0
        assert store.usage_daily("t", "P1") == []  # the view exists
    finally:
        store.close()


def test_postgres_messages_keep_only_the_indexes_ingest_and_reads_use(fresh_database_url):
    import psycopg

    store = open_store(fresh_database_url)
    try:
        applied = store.migrate()
    finally:
        store.close()
    assert "0004_drop_unread_message_index" in applied
    with psycopg.connect(fresh_database_url) as conn:
        names = {
            r[0]
            for r in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'messages'")
        }
    assert names == {"messages_pkey", "messages_station_seq_key"}  # idempotence only
