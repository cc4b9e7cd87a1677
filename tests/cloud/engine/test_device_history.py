"""The engine's forecast learns from a pipette's own earlier wear cycles (SQLite and
PostgreSQL): two pipettes of one model with the same current cycle, one of which wore out fast
before its last service, get different forecasts — the fast one's comes sooner."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from labcal_cloud.db.gateway import Database, connect
from labcal_cloud.engine.service import process_runs, refresh_forecasts
from labcal_cloud.engine.store_sql import SqlEngineRepository, SqlForecastStore
from labcal_shared.contracts import DeviceRef, RunMode, UsageReport

from .runs import PIPETTE, make_run
from .test_engine_service import DAY, T0, SqlPublisher, ingest


@pytest.fixture
def db(store_url: str) -> Iterator[Database]:
    database = connect(store_url)
    yield database
    database.close()


def _current_cycle(url: str, device: DeviceRef, start: datetime, total0: int) -> None:
    """Serviced at ``start`` (as left 0.1 µl), then 500 cycles a day for 30 days, a quick check."""
    usage = [
        (start + d * DAY, UsageReport(cycles_total=total0 + 500 * d, cycles_since_service=500 * d))
        for d in range(1, 31)
    ]
    runs = [
        (start + timedelta(hours=2), make_run(start + timedelta(hours=2), bias_ul=0.1)),
        (
            start + 20 * DAY,
            make_run(start + 20 * DAY, bias_ul=0.15, mode=RunMode.QUICK_CHECK),
        ),
    ]
    ingest(url, [(at, r.model_copy(update={"pipette": device})) for at, r in runs], device)
    ingest(url, usage, device)


def test_a_pipette_that_wore_out_fast_is_forecast_sooner(store_url: str, db: Database) -> None:
    fast, fresh = PIPETTE, PIPETTE.model_copy(update={"serial": "FRESH-1"})
    # fast: an earlier cycle of 40,000 cycles that ended 0.7 µl off (as found), then serviced
    before = [
        (T0 - (80 - d) * DAY, UsageReport(cycles_total=500 * d, cycles_since_service=500 * d))
        for d in range(0, 81)
    ]
    ingest(store_url, before, fast)
    early = T0 - 60 * DAY
    ingest(store_url, [(early, make_run(early, bias_ul=0.1))], fast)
    found = T0 - timedelta(hours=12)
    ingest(store_url, [(found, make_run(found, bias_ul=0.7, phase="as_found"))], fast)
    _current_cycle(store_url, fast, T0, 40_000)
    _current_cycle(store_url, fresh, T0, 0)
    repo, store, publisher = SqlEngineRepository(db), SqlForecastStore(db), SqlPublisher(db)
    now = T0 + 30 * DAY + timedelta(hours=1)
    process_runs(repo, publisher, now=lambda: now)
    refresh_forecasts(repo, store, publisher, now=now)
    rows = dict(db.query("SELECT device_serial, median_at FROM maintenance_forecast"))
    fast_at, fresh_at = Database.read_at(rows[fast.serial]), Database.read_at(rows["FRESH-1"])
    assert fast_at is not None
    assert fresh_at is not None
    assert fast_at < fresh_at - 10 * DAY
