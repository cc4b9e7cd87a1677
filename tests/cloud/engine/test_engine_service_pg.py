"""The engine's service on PostgreSQL: ingested runs become records, usage and events become
due states with a change log and webhooks — through the real ingest write path."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from labcal_cloud.engine.due import DuePolicy
from labcal_cloud.engine.service import process_runs, refresh_due_states
from labcal_cloud.engine.store_pg import PostgresEngineRepository, WebhookPublisher
from labcal_cloud.ingest.core import rows_of
from labcal_cloud.storage.factory import open_store
from labcal_cloud.storage.rows import Batch
from labcal_shared.contracts import (
    ClockQuality,
    DeviceEvent,
    DeviceEventType,
    Envelope,
    Payload,
    UsageReport,
)

from .runs import PIPETTE, make_run

pytestmark = pytest.mark.postgres

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def db(fresh_database_url: str) -> str:
    store = open_store(fresh_database_url)
    store.migrate()
    store.close()
    return fresh_database_url


SEQ = iter(range(1_000_000))


def ingest(url: str, payloads: list[tuple[datetime, Payload]]) -> None:
    batch = Batch()
    for at, payload in payloads:
        seq = next(SEQ)
        env = Envelope(
            message_id=uuid.uuid4(),
            tenant="t1",
            station="st-1",
            seq=seq,
            device=PIPETTE,
            device_time=at,
            edge_time=at,
            clock=ClockQuality.SYNCED,
            payload=payload,
        )
        rows_of(env, at, batch)
    store = open_store(url)
    try:
        store.write_batch(batch)
    finally:
        store.close()


def rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


def test_runs_usage_and_drop_flow_into_records_due_states_and_webhooks(db: str) -> None:
    usage = [
        (T0 - timedelta(days=1), UsageReport(cycles_total=5_000, cycles_since_service=0)),
        (T0 + timedelta(days=20), UsageReport(cycles_total=9_000, cycles_since_service=4_000)),
        (T0 + timedelta(days=30), UsageReport(cycles_total=11_000, cycles_since_service=6_000)),
    ]
    bad = make_run(T0 + timedelta(days=2), edition="ISO 8655-2:2022")
    ingest(db, [(T0, make_run(T0)), (T0 + timedelta(days=2), bad), *usage])
    repo, publisher = PostgresEngineRepository(db), WebhookPublisher(db)
    try:
        repo.set_balance_calibration("t1", "B-7", T0 + timedelta(days=100))
        with psycopg.connect(db, autocommit=True) as conn:
            conn.execute(
                "INSERT INTO webhook_endpoint (tenant, url, secret, events) "
                "VALUES ('t1', 'http://127.0.0.1:9/h', 's', '*')"
            )
        result = process_runs(repo, publisher, now=lambda: T0 + timedelta(days=3))
        assert (result.recorded, result.rejected) == (1, 1)
        again = process_runs(repo, publisher, now=lambda: T0 + timedelta(days=3))
        assert (again.recorded, again.rejected) == (0, 0)
        assert rows(
            db,
            "SELECT passed, conformity_claimable, balance_in_calibration FROM calibration_record",
        ) == [(True, True, True)]
        (reason,) = rows(db, "SELECT reason FROM calibration_run_rejection")[0]
        assert "2022" in reason

        policy = DuePolicy(interval_days=365, cycle_limit=10_000)
        now = T0 + timedelta(days=30)
        assert refresh_due_states(repo, publisher, policy, now=now) == 1
        assert rows(db, "SELECT status, basis, reason FROM device_due_state") == [
            ("due_soon", "usage", "due in 20 days: 6,000 of 10,000 cycles at 200/day")
        ]
        assert refresh_due_states(repo, publisher, policy, now=now) == 0  # no change, no event

        ingest(db, [(now + timedelta(hours=1), DeviceEvent(event=DeviceEventType.DROP))])
        later = now + timedelta(hours=2)
        assert refresh_due_states(repo, publisher, policy, now=later) == 1
        events = rows(db, "SELECT previous, current, reason FROM due_state_event ORDER BY id")
        assert [(p, c) for p, c, _ in events] == [(None, "due_soon"), ("due_soon", "due")]
        assert events[1][2].startswith("due now: drop event on 2026-07-01")
        types = rows(db, "SELECT event_type FROM webhook_delivery ORDER BY id")
        assert [t for (t,) in types] == [
            "calibration.completed",
            "device.due_state_changed",
            "device.due_state_changed",
        ]
    finally:
        repo.close()
        publisher.close()


def test_records_are_immutable_in_the_database(db: str) -> None:
    ingest(db, [(T0, make_run(T0))])
    repo, publisher = PostgresEngineRepository(db), WebhookPublisher(db)
    try:
        process_runs(repo, publisher, now=lambda: T0)
    finally:
        repo.close()
        publisher.close()
    with (
        psycopg.connect(db) as conn,
        pytest.raises(psycopg.errors.RaiseException, match="immutable"),
    ):
        conn.execute("UPDATE calibration_record SET passed = NOT passed")
    with (
        psycopg.connect(db) as conn,
        pytest.raises(psycopg.errors.RaiseException, match="immutable"),
    ):
        conn.execute("DELETE FROM calibration_record")


def test_wearing_pipette_raises_one_maintenance_alert(db: str) -> None:
    from labcal_cloud.engine.service import refresh_forecasts
    from labcal_cloud.engine.store_pg import PostgresForecastStore
    from labcal_shared.contracts import RunMode

    day = timedelta(days=1)
    usage = [
        (T0 - day, UsageReport(cycles_total=80_000, cycles_since_service=40_000)),
        *(
            (T0 + d * day, UsageReport(cycles_total=80_000 + 500 * d, cycles_since_service=500 * d))
            for d in range(1, 62)
        ),
    ]
    runs = [
        (T0, make_run(T0, bias_ul=0.1)),
        (T0 + 30 * day, make_run(T0 + 30 * day, bias_ul=0.3, mode=RunMode.QUICK_CHECK)),
        (T0 + 60 * day, make_run(T0 + 60 * day, bias_ul=0.5, mode=RunMode.QUICK_CHECK)),
    ]
    ingest(db, [*runs, *usage])
    repo, store, publisher = (
        PostgresEngineRepository(db),
        PostgresForecastStore(db),
        WebhookPublisher(db),
    )
    try:
        with psycopg.connect(db, autocommit=True) as conn:
            conn.execute(
                "INSERT INTO webhook_endpoint (tenant, url, secret, events) "
                "VALUES ('t1', 'http://127.0.0.1:9/h', 's', 'maintenance.forecast')"
            )
        process_runs(repo, publisher, now=lambda: T0 + 61 * day)
        now = T0 + 61 * day + timedelta(hours=1)
        assert refresh_forecasts(repo, store, publisher, now=now) == 1
        assert refresh_forecasts(repo, store, publisher, now=now) == 0  # still raised: quiet
        ((alert, reason, median_at),) = rows(
            db, "SELECT alert, reason, median_at FROM maintenance_forecast"
        )
        assert alert is True
        assert reason.startswith("maintenance alert: likely to leave the 80% guard band in ")
        # 15,000 cycles over the 30 days + 1 hour since the window's first report: 499/day
        assert "30,500 cycles since service at 499/day" in reason
        assert now < median_at < now + 60 * day
        assert rows(db, "SELECT event_type FROM webhook_delivery") == [("maintenance.forecast",)]
    finally:
        repo.close()
        store.close()
        publisher.close()
