"""Fixtures for tests that use the real PostgreSQL and Mosquitto.

``scripts/test`` makes sure both are reachable and exports ``DATABASE_URL`` (a maintenance
database) and ``MQTT_URL``. Nothing here depends on state left behind: every test session gets a
fresh database (dropped at the end) and every test a fresh tenant id, so topics never collide with
other runs on the same broker.
"""

from __future__ import annotations

import contextlib
import os
import socket
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_MQTT_URL = "mqtt://127.0.0.1:1883"


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    """The maintenance database URL (``DATABASE_URL``), checked to be reachable."""
    url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    psycopg = pytest.importorskip("psycopg")
    try:
        with psycopg.connect(url, connect_timeout=5, autocommit=True) as conn:
            conn.execute("select 1")
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL at {url} is not reachable ({exc}); run scripts/test")
    return url


@contextlib.contextmanager
def _scratch_database(admin_url: str) -> Iterator[str]:
    """Create an empty database with a unique name; drop it (forcibly) afterwards."""
    import psycopg

    name = f"labcal_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_database(admin_url, name)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def database_url(postgres_admin_url: str) -> Iterator[str]:
    """A fresh, empty database for this test session; dropped afterwards."""
    with _scratch_database(postgres_admin_url) as url:
        yield url


@pytest.fixture
def fresh_database_url(postgres_admin_url: str) -> Iterator[str]:
    """A fresh, empty database for one test; dropped afterwards."""
    with _scratch_database(postgres_admin_url) as url:
        yield url


@pytest.fixture(scope="session")
def mqtt_url() -> str:
    """The broker URL (``MQTT_URL``, ``mqtt://host:port``), checked to be reachable."""
    url = os.environ.get("MQTT_URL", DEFAULT_MQTT_URL)
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 1883
    try:
        socket.create_connection((host, port), timeout=5).close()
    except OSError as exc:
        pytest.fail(f"MQTT broker at {url} is not reachable ({exc}); run scripts/test")
    return url


@pytest.fixture
def tenant_id() -> str:
    """A tenant id unique to this test, so its topics never meet another run's messages."""
    return f"t-{uuid.uuid4().hex[:12]}"
