"""deploy/postgres/backup.sh and restore.sh against the real PostgreSQL server.

A fresh database gets the real schema (``labcal-cloud migrate``) and rows of every awkward type
(jsonb, bytea, NULLs, time zones, a bigserial); it is backed up, restored into another fresh
database, and both are compared table by table, sequences included.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

psycopg = pytest.importorskip("psycopg")

ROOT = Path(__file__).resolve().parents[2]
BACKUP = ROOT / "deploy" / "postgres" / "backup.sh"
RESTORE = ROOT / "deploy" / "postgres" / "restore.sh"

pytestmark = pytest.mark.postgres


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture
def target_database_url(postgres_admin_url: str) -> Iterator[str]:
    """A second fresh database, the restore target."""
    name = f"labcal_restore_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(postgres_admin_url)._replace(path="/" + name))
    finally:
        with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def source_database_url(fresh_database_url: str) -> str:
    """A fresh database with the real LabCal schema and some rows in it."""
    migrate = _run(
        sys.executable, "-m", "labcal_cloud.cli", "--database-url", fresh_database_url, "migrate"
    )
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr
    with psycopg.connect(fresh_database_url) as conn:
        conn.execute(
            "INSERT INTO stations (station, tenant, password_hash) VALUES "
            "('acme-bal-01', 'acme', '$7$101$abc'), ('acme-bal-02', 'acme', '$7$101$def')"
        )
        for seq in range(1, 4):
            mid = uuid.UUID(int=seq)
            conn.execute(
                "INSERT INTO messages (message_id, tenant, station, seq, kind, payload_type, "
                "device_serial, edge_time, clock, received_at, payload_json) VALUES "
                "(%s, 'acme', 'acme-bal-01', %s, 'reading', 'reading', 'B1', "
                "'2026-03-01 10:00:00+01', 'ntp', now(), %s)",
                (mid, seq, '{"value": 0.99731, "unit": "g", "note": "ü µL"}'),
            )
            conn.execute(
                "INSERT INTO readings (message_id, idx, tenant, station, device_serial, time, "
                "value, unit, stable, status) VALUES (%s, 0, 'acme', 'acme-bal-01', 'B1', "
                "'2026-03-01 09:00:00+00', %s, 'g', true, 'ok')",
                (mid, None if seq == 2 else 0.99731 * seq),
            )
        for i in range(3):
            conn.execute(
                "INSERT INTO quarantine (digest, received_at, topic, reason, payload) "
                "VALUES (%s, now(), 'labcal/v1/x/y/reading', 'invalid: json', %s)",
                (f"d{i}", bytes(range(256)) * (i + 1)),
            )
    return fresh_database_url


def _snapshot(url: str) -> dict[str, list[tuple[object, ...]]]:
    """Every table's rows (sorted, as text) and every sequence's position."""
    out: dict[str, list[tuple[object, ...]]] = {}
    with psycopg.connect(url) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
            )
        ]
        for t in tables:
            rows = conn.execute(f'SELECT t::text FROM "{t}" AS t').fetchall()
            out[t] = sorted(rows)
        for (s,) in conn.execute("SELECT sequencename FROM pg_sequences WHERE schemaname='public'"):
            out["sequence " + s] = conn.execute(f'SELECT last_value FROM "{s}"').fetchall()
    return out


def test_backup_then_restore_gives_the_same_database(
    source_database_url: str, target_database_url: str, tmp_path: Path
) -> None:
    backup = _run(BACKUP, "--dir", tmp_path, "--name", "labcal-test.dump", source_database_url)
    assert backup.returncode == 0, backup.stderr
    archive = tmp_path / "labcal-test.dump"
    assert archive.stat().st_size > 0
    assert (tmp_path / "labcal-test.dump.sha256").read_text().split()[1] == "labcal-test.dump"
    assert not list(tmp_path.glob("*.partial"))

    restore = _run(RESTORE, archive, target_database_url)
    assert restore.returncode == 0, restore.stderr
    assert "public.quarantine" in restore.stdout
    assert "3 rows" in restore.stdout

    source, target = _snapshot(source_database_url), _snapshot(target_database_url)
    assert len(source["readings"]) == 3
    assert len(source["quarantine"]) == 3
    assert target == source


def test_restore_refuses_a_database_that_has_tables(
    source_database_url: str, tmp_path: Path
) -> None:
    assert _run(BACKUP, "--dir", tmp_path, "--name", "a.dump", source_database_url).returncode == 0
    before = _snapshot(source_database_url)
    restore = _run(RESTORE, tmp_path / "a.dump", source_database_url)
    assert restore.returncode != 0
    assert "already has" in restore.stderr
    assert "new, empty database" in restore.stderr
    assert _snapshot(source_database_url) == before


def test_restore_refuses_a_damaged_archive(
    source_database_url: str, target_database_url: str, tmp_path: Path
) -> None:
    assert _run(BACKUP, "--dir", tmp_path, "--name", "a.dump", source_database_url).returncode == 0
    archive = tmp_path / "a.dump"
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    archive.write_bytes(bytes(data))
    restore = _run(RESTORE, archive, target_database_url)
    assert restore.returncode != 0
    assert "checksum mismatch" in restore.stderr
    assert _snapshot(target_database_url) == {}


def test_restore_refuses_a_file_that_is_not_an_archive(
    target_database_url: str, tmp_path: Path
) -> None:
    junk = tmp_path / "junk.dump"
    junk.write_text("this is not a pg_dump archive\n")
    restore = _run(RESTORE, junk, target_database_url)
    assert restore.returncode != 0
    assert "cannot read" in restore.stderr


def test_backup_refuses_a_url_that_is_not_postgresql(tmp_path: Path) -> None:
    backup = _run(BACKUP, "--dir", tmp_path, "sqlite:///labcal.sqlite3")
    assert backup.returncode != 0
    assert "not a PostgreSQL URL" in backup.stderr
    assert list(tmp_path.iterdir()) == []


def test_backup_keeps_only_the_newest_archives(source_database_url: str, tmp_path: Path) -> None:
    old = ["labcal-20200101T000000Z.dump", "labcal-20210101T000000Z.dump"]
    for name in old:
        (tmp_path / name).write_bytes(b"old")
        (tmp_path / f"{name}.sha256").write_text("x  " + name)
    unrelated = tmp_path / "notes.txt"
    unrelated.write_text("keep me")
    backup = _run(BACKUP, "--dir", tmp_path, "--keep", "2", source_database_url)
    assert backup.returncode == 0, backup.stderr
    dumps = sorted(p.name for p in tmp_path.glob("labcal-*.dump"))
    assert len(dumps) == 2
    assert dumps[0] == old[1]
    assert dumps[1] > old[1]
    assert not (tmp_path / f"{old[0]}.sha256").exists()
    assert unrelated.exists()
