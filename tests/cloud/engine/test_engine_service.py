"""The engine's service on SQLite and PostgreSQL (the same tests on both): ingested runs become
records, usage and events become due states with a change log and domain events — through the
real ingest write path and the one SQL adapter (``SqlEngineRepository``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from labcal_cloud.db.gateway import Database, connect
from labcal_cloud.engine.due import DuePolicy
from labcal_cloud.engine.events import (
    CalibrationRecorded,
    DomainEvent,
    event_id,
)
from labcal_cloud.engine.service import process_runs, refresh_due_states, refresh_forecasts
from labcal_cloud.engine.store_sql import SqlEngineRepository, SqlForecastStore
from labcal_cloud.ingest.core import rows_of
from labcal_cloud.storage.factory import open_store
from labcal_cloud.storage.rows import Batch
from labcal_shared.contracts import (
    ClockQuality,
    DeviceEvent,
    DeviceEventType,
    DeviceRef,
    Envelope,
    Payload,
    RunMode,
    UsageReport,
)

from .runs import PIPETTE, make_run

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


class SqlPublisher:
    """A publisher at the port that writes each event through the engine's own database (as
    the real outbox adapter does), so it commits or rolls back with the change; ``fail`` makes
    it raise after writing."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self.fail = False
        db.execute(
            "CREATE TABLE IF NOT EXISTS test_event (event_id TEXT PRIMARY KEY, kind TEXT NOT NULL,"
            " device_id TEXT)"
        )

    def publish(self, event: DomainEvent) -> None:
        device_id = None if isinstance(event, CalibrationRecorded) else event.device_id
        self._db.execute(
            "INSERT INTO test_event (event_id, kind, device_id) VALUES (?, ?, ?)",
            (event_id(event), type(event).__name__, device_id),
        )
        if self.fail:
            raise ConnectionError("event outbox unavailable")

    def kinds(self) -> list[str]:
        return [r[0] for r in self._db.query("SELECT kind FROM test_event ORDER BY kind")]


@pytest.fixture
def db(store_url: str) -> Iterator[Database]:
    database = connect(store_url)
    yield database
    database.close()


SEQ = iter(range(1_000_000))


def ingest(url: str, payloads: list[tuple[datetime, Payload]], device: DeviceRef = PIPETTE) -> None:
    batch = Batch()
    for at, payload in payloads:
        env = Envelope(
            message_id=uuid.uuid4(),
            tenant="t1",
            station="st-1",
            seq=next(SEQ),
            device=device,
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


def test_runs_usage_and_drop_flow_into_records_due_states_and_events(
    store_url: str, db: Database
) -> None:
    usage = [
        (T0 - DAY, UsageReport(cycles_total=5_000, cycles_since_service=0)),
        (T0 + 20 * DAY, UsageReport(cycles_total=9_000, cycles_since_service=4_000)),
        (T0 + 30 * DAY, UsageReport(cycles_total=11_000, cycles_since_service=6_000)),
    ]
    bad = make_run(T0 + 2 * DAY, edition="ISO 8655-2:2022")
    ingest(store_url, [(T0, make_run(T0)), (T0 + 2 * DAY, bad), *usage])
    repo, publisher = SqlEngineRepository(db), SqlPublisher(db)
    repo.set_balance_calibration("t1", "B-7", T0 + 100 * DAY)
    result = process_runs(repo, publisher, now=lambda: T0 + 3 * DAY)
    assert (result.recorded, result.rejected) == (1, 1)
    again = process_runs(repo, publisher, now=lambda: T0 + 3 * DAY)
    assert (again.recorded, again.rejected) == (0, 0)
    ((passed, claimable, in_cal),) = db.query(
        "SELECT passed, conformity_claimable, balance_in_calibration FROM calibration_record"
    )
    assert (bool(passed), bool(claimable), bool(in_cal)) == (True, True, True)
    (reason,) = db.query("SELECT reason FROM calibration_run_rejection")[0]
    assert "2022" in reason

    policy = DuePolicy(interval_days=365, cycle_limit=10_000)
    now = T0 + 30 * DAY
    assert refresh_due_states(repo, publisher, policy, now=now) == 1
    assert db.query("SELECT status, basis, reason, device_id FROM device_due_state") == [
        ("due_soon", "usage", "due in 20 days: 6,000 of 10,000 cycles at 200/day", None)
    ]
    assert refresh_due_states(repo, publisher, policy, now=now) == 0  # no change, no event

    ingest(store_url, [(now + timedelta(hours=1), DeviceEvent(event=DeviceEventType.DROP))])
    later = now + timedelta(hours=2)
    assert refresh_due_states(repo, publisher, policy, now=later) == 1
    events = db.query("SELECT previous, current, reason FROM due_state_event ORDER BY id")
    assert [(p, c) for p, c, _ in events] == [(None, "due_soon"), ("due_soon", "due")]
    assert events[1][2].startswith("due now: drop event on 2026-07-01")
    assert publisher.kinds() == [
        "CalibrationRecorded",
        "DueStateChangedEvent",
        "DueStateChangedEvent",
    ]
    (updated,) = db.one("SELECT updated_at FROM device_due_state") or ()
    assert Database.read_at(updated) == later


def test_records_are_immutable_in_the_database(store_url: str, db: Database) -> None:
    ingest(store_url, [(T0, make_run(T0))])
    process_runs(SqlEngineRepository(db), SqlPublisher(db), now=lambda: T0)
    assert db.one("SELECT COUNT(*) FROM calibration_record") == (1,)
    with pytest.raises(Exception, match="immutable"):
        db.execute("UPDATE calibration_record SET passed = NOT passed")
    with pytest.raises(Exception, match="immutable"):
        db.execute("DELETE FROM calibration_record")
    assert db.one("SELECT COUNT(*) FROM calibration_record") == (1,)


def _wearing_pipette(store_url: str) -> None:
    usage = [
        (T0 - DAY, UsageReport(cycles_total=80_000, cycles_since_service=40_000)),
        *(
            (T0 + d * DAY, UsageReport(cycles_total=80_000 + 500 * d, cycles_since_service=500 * d))
            for d in range(1, 62)
        ),
    ]
    runs = [
        (T0, make_run(T0, bias_ul=0.1)),
        (T0 + 30 * DAY, make_run(T0 + 30 * DAY, bias_ul=0.3, mode=RunMode.QUICK_CHECK)),
        (T0 + 60 * DAY, make_run(T0 + 60 * DAY, bias_ul=0.5, mode=RunMode.QUICK_CHECK)),
    ]
    ingest(store_url, [*runs, *usage])


def test_wearing_pipette_raises_one_maintenance_alert(store_url: str, db: Database) -> None:
    _wearing_pipette(store_url)
    repo, store, publisher = SqlEngineRepository(db), SqlForecastStore(db), SqlPublisher(db)
    process_runs(repo, publisher, now=lambda: T0 + 61 * DAY)
    now = T0 + 61 * DAY + timedelta(hours=1)
    assert refresh_forecasts(repo, store, publisher, now=now) == 1
    assert refresh_forecasts(repo, store, publisher, now=now) == 0  # still raised: quiet
    ((alert, reason, median_at),) = db.query(
        "SELECT alert, reason, median_at FROM maintenance_forecast"
    )
    assert bool(alert) is True
    assert reason.startswith("maintenance alert: likely to leave the 80% guard band in ")
    # 15,000 cycles over the 30 days + 1 hour since the window's first report: 499/day
    assert "30,500 cycles since service at 499/day" in reason
    median = Database.read_at(median_at)
    assert median is not None
    assert now < median < now + 60 * DAY
    assert publisher.kinds().count("MaintenanceAlertRaised") == 1


# -- one unit of work: a change and its event commit together ------------------------------------


def test_a_failing_publisher_keeps_no_record_and_the_run_is_recorded_next_pass(
    store_url: str, db: Database
) -> None:
    ingest(store_url, [(T0, make_run(T0))])
    repo, publisher = SqlEngineRepository(db), SqlPublisher(db)
    publisher.fail = True
    with pytest.raises(ConnectionError):
        process_runs(repo, publisher, now=lambda: T0 + DAY)
    assert db.one("SELECT COUNT(*) FROM calibration_record") == (0,)
    assert publisher.kinds() == []  # the event rolled back with its record
    assert len(repo.unrecorded_runs(10)) == 1
    publisher.fail = False
    assert process_runs(repo, publisher, now=lambda: T0 + DAY).recorded == 1
    assert db.one("SELECT COUNT(*) FROM calibration_record") == (1,)
    assert publisher.kinds() == ["CalibrationRecorded"]


def test_a_failing_publisher_keeps_no_due_state_change(store_url: str, db: Database) -> None:
    ingest(store_url, [(T0, UsageReport(cycles_total=100, cycles_since_service=0))])
    repo, publisher = SqlEngineRepository(db), SqlPublisher(db)
    publisher.fail = True
    with pytest.raises(ConnectionError):
        refresh_due_states(repo, publisher, DuePolicy(), now=T0 + DAY)
    assert db.query("SELECT * FROM device_due_state") == []
    assert db.query("SELECT * FROM due_state_event") == []
    assert publisher.kinds() == []
    publisher.fail = False
    assert refresh_due_states(repo, publisher, DuePolicy(), now=T0 + DAY) == 1
    assert db.query("SELECT status, basis FROM device_due_state") == [("due", "never_calibrated")]
    assert publisher.kinds() == ["DueStateChangedEvent"]


def test_a_failing_publisher_keeps_no_forecast_alert(store_url: str, db: Database) -> None:
    _wearing_pipette(store_url)
    repo, store, publisher = SqlEngineRepository(db), SqlForecastStore(db), SqlPublisher(db)
    process_runs(repo, publisher, now=lambda: T0 + 61 * DAY)
    now = T0 + 61 * DAY + timedelta(hours=1)
    publisher.fail = True
    with pytest.raises(ConnectionError):
        refresh_forecasts(repo, store, publisher, now=now)
    assert db.query("SELECT * FROM maintenance_forecast") == []
    publisher.fail = False
    assert refresh_forecasts(repo, store, publisher, now=now) == 1  # raised again, not lost
    assert publisher.kinds().count("MaintenanceAlertRaised") == 1
