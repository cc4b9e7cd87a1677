"""/healthz, /readyz and /metrics on a real database (SQLite and PostgreSQL), through HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from labcal_cloud.db.gateway import Database, connect
from labcal_cloud.ops import router as ops
from labcal_cloud.storage.factory import open_store


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ops.sqlite3'}"
    found: str = request.getfixturevalue("fresh_database_url")
    return found


def _app(db: Database) -> TestClient:
    app = FastAPI()
    app.include_router(ops.router)
    ops.install(app, db)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("handler failed")

    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def migrated(url: str) -> Iterator[Database]:
    store = open_store(url)
    store.migrate()
    store.close()
    db = connect(url)
    yield db
    db.close()


def test_not_ready_before_migrations_ready_after(url: str) -> None:
    db = connect(url)
    try:
        client = _app(db)
        assert client.get("/healthz").json() == {"status": "ok"}
        before = client.get("/readyz")
        assert before.status_code == 503
        assert before.json()["ready"] is False
        store = open_store(url)
        store.migrate()
        store.close()
        after = client.get("/readyz")
        assert after.status_code == 200, after.text
        assert after.json() == {"ready": True, "storage": "ok", "pending_migrations": []}
    finally:
        db.close()


def _message(db: Database, seq: int, kind: str, ptype: str, payload: str | None) -> None:
    db.execute(
        "INSERT INTO messages (message_id, tenant, station, seq, kind, payload_type, edge_time,"
        " clock, received_at, payload_json) VALUES (?, 't1', 'st1', ?, ?, ?, ?, 'synced', ?, ?)",
        (f"00000000-0000-0000-0000-{seq:012d}", seq, kind, ptype, "2026-11-23T10:00:00+00:00",
         "2026-11-23T10:00:01+00:00", payload),
    )  # fmt: skip


def test_metrics_expose_what_the_processes_stored(migrated: Database) -> None:
    db = migrated
    _message(db, 1, "usage", "usage_report", "{}")
    _message(db, 2, "usage", "usage_report", "{}")
    _message(db, 3, "status", "station_status", json.dumps({"outbox_depth": 40}))
    _message(db, 4, "status", "station_status", json.dumps({"outbox_depth": 7}))
    for i, reason in enumerate(["contract: bad", "contract: worse", "storage: refused"]):
        db.execute(
            "INSERT INTO quarantine (digest, received_at, topic, reason, payload)"
            " VALUES (?, '2026-11-23T10:00:00+00:00', 'labcal/v1/t1/st1/usage', ?, ?)",
            (f"d{i}", reason, b"raw"),
        )
    db.execute(
        "INSERT INTO reminder_step (tenant, sequence, subject_key, step, recipient, channel,"
        " address, subject, body, send_at, next_attempt_at) VALUES"
        " ('t1', 'due', 'dev1', 'initial', 'u1', 'inbox', 'a@b', 's', 'b', ?, ?)",
        ("2026-11-23T10:00:00+00:00", "2026-11-23T10:00:00+00:00"),
    )
    step = db.one("SELECT id FROM reminder_step")
    assert step is not None
    for outcome in ("retry", "sent"):
        db.execute(
            "INSERT INTO reminder_delivery (step_id, attempt, worker, at, outcome)"
            " VALUES (?, 1, 'w', '2026-11-23T10:00:00+00:00', ?)",
            (step[0], outcome),
        )
    client = _app(db)
    assert client.get("/boom").status_code == 500
    response = client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    lines = set(response.text.splitlines())
    assert 'labcal_ingest_messages_stored_total{kind="usage"} 2' in lines
    assert 'labcal_ingest_messages_stored_total{kind="status"} 2' in lines
    assert 'labcal_ingest_quarantined_total{reason="contract"} 2' in lines
    assert 'labcal_station_outbox_depth{station="st1",tenant="t1"} 7' in lines  # the latest
    assert 'labcal_reminders_sent_total{channel="inbox"} 1' in lines
    assert 'labcal_reminder_attempts_failed_total{outcome="retry"} 1' in lines
    assert 'labcal_errors_total{source="quarantine_storage"} 1' in lines
    assert 'labcal_errors_total{source="http_5xx"} 1' in lines
    assert "labcal_metrics_scrape_ok 1" in lines


def test_metrics_still_answer_when_the_database_has_no_tables(tmp_path: Path) -> None:
    db = connect(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    try:
        client = _app(db)
        first = client.get("/metrics")
        assert first.status_code == 200
        assert "labcal_metrics_scrape_ok 0" in first.text.splitlines()
        second = client.get("/metrics").text.splitlines()
        assert 'labcal_errors_total{source="scrape"} 2' in second
    finally:
        db.close()
