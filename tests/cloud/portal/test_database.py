"""The SQL gateway: transactions roll back on error; a dropped PostgreSQL connection is replaced."""

from __future__ import annotations

import psycopg
import pytest
from fastapi.testclient import TestClient

from labcal_cloud.db.gateway import connect
from labcal_cloud.portal.app import create_app

from .helpers import World, api_token


def test_failed_block_rolls_back(world: World) -> None:
    db = world.services.db

    def change_then_fail() -> None:
        with db.transaction():
            db.execute("UPDATE portal_sites SET name = 'changed' WHERE id = ?", (world.a.site.id,))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        change_then_fail()
    assert db.one("SELECT name FROM portal_sites WHERE id = ?", (world.a.site.id,)) == (
        "A Main building",
    )


@pytest.mark.postgres
def test_portal_recovers_after_the_server_drops_its_connection(
    pg_world: World, fresh_database_url: str, postgres_admin_url: str
) -> None:
    app = create_app(pg_world.services.settings, services=pg_world.services)
    client = TestClient(app, raise_server_exceptions=False)
    headers = api_token(pg_world, pg_world.a.user)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    name = fresh_database_url.rsplit("/", 1)[1]
    with psycopg.connect(postgres_admin_url, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
    first = client.get("/api/v1/me", headers=headers)  # may fail: the connection just died
    assert first.status_code in (200, 500)
    assert client.get("/api/v1/me", headers=headers).status_code == 200


def test_unknown_url_scheme_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported database URL"):
        connect("mysql://x")
