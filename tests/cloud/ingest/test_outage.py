"""A PostgreSQL outage pauses ingest without acking; when the database is back, ingest resumes
and nothing is lost or doubled. (PostgreSQL only: its outage is real, a server refusing us.)"""

from __future__ import annotations

from urllib.parse import urlsplit

import psycopg
import pytest

from labcal_cloud.storage import open_store


@pytest.fixture
def store_url(fresh_database_url: str) -> str:
    """Overrides the two-backend fixture: this test needs a PostgreSQL database."""
    store = open_store(fresh_database_url)
    try:
        store.migrate()
    finally:
        store.close()
    return fresh_database_url


def set_outage(admin_url: str, dbname: str, down: bool) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{dbname}" WITH ALLOW_CONNECTIONS {str(not down).lower()}')
        if down:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (dbname,),
            )


def test_database_outage_pauses_then_resumes(
    store_url, postgres_admin_url, messages, publisher, wait, start_worker
):
    worker = start_worker()
    dbname = urlsplit(store_url).path.lstrip("/")

    def stored() -> int:
        s = open_store(store_url)
        try:
            return s.count("messages", messages.tenant)
        finally:
            s.close()

    publisher.publish([messages.wire(messages.reading(float(i))) for i in range(10)])
    wait(lambda: stored() == 10, what="first ten stored")
    set_outage(postgres_admin_url, dbname, down=True)
    try:
        publisher.publish([messages.wire(messages.reading(float(i))) for i in range(10, 30)])
        wait(lambda: worker.metrics.get("storage_errors") >= 2, what="retries during the outage")
        assert worker.metrics.get("stored") == 10
    finally:
        set_outage(postgres_admin_url, dbname, down=False)
    wait(lambda: stored() == 30, what="everything stored after the outage")
    wait(lambda: worker.metrics.get("stored") == 30, what="stored counted")
    assert worker.metrics.get("duplicates") == 0
