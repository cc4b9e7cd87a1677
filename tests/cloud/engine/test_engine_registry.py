"""Due states for every registered device (SQLite and PostgreSQL): the registry's devices are
followed even without usage or runs, under their own interval and cycle limit, with the
registry's last calibration as imported history, and keyed by the registry's device id."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from labcal_cloud.db.gateway import Database, connect
from labcal_cloud.engine.due import DuePolicy
from labcal_cloud.engine.service import process_runs, refresh_due_states, refresh_forecasts
from labcal_cloud.engine.store_sql import SqlEngineRepository, SqlForecastStore
from labcal_shared.contracts import DeviceRef, DeviceType, RunMode, UsageReport

from .runs import BALANCE, make_run
from .test_engine_service import SqlPublisher, ingest

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture
def db(store_url: str) -> Iterator[Database]:
    database = connect(store_url)
    database.execute(
        "INSERT INTO portal_tenants (id, name, kind, created_at) VALUES ('t1', 'Lab', 'customer',"
        " '2025-01-01T00:00:00+00:00')"
    )
    database.execute("INSERT INTO portal_sites (id, tenant_id, name) VALUES ('s1', 't1', 'Main')")
    yield database
    database.close()


def register(
    db: Database,
    serial: str,
    *,
    registered: datetime = NOW - 500 * DAY,
    calibrated: datetime | None = None,
    interval_days: int = 365,
    cycles_limit: int = 0,
    tenant: str | None = "t1",
) -> str:
    device_id = f"dev-{serial}"
    db.execute(
        "INSERT INTO portal_devices (id, tenant_id, site_id, make, model, serial, registered_at,"
        " interval_days, last_calibrated_at, cycles_limit) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            device_id,
            tenant,
            "s1" if tenant else None,
            "Acme",
            "P100",
            serial,
            registered.isoformat(),
            interval_days,
            calibrated.isoformat() if calibrated else None,
            cycles_limit,
        ),
    )
    return device_id


def pipette(serial: str) -> DeviceRef:
    return DeviceRef(type=DeviceType.PIPETTE, make="Acme", model="P100", serial=serial)


def states(db: Database) -> dict[str, tuple[str, str, str | None]]:
    return {
        r[0]: (r[1], r[2], r[3])
        for r in db.query("SELECT device_serial, status, basis, device_id FROM device_due_state")
    }


def test_every_registered_device_gets_the_engines_due_state(store_url: str, db: Database) -> None:
    register(db, "NEVER", registered=NOW - 10 * DAY)
    register(db, "OLD", calibrated=NOW - 400 * DAY)
    register(db, "SHORT", calibrated=NOW - 170 * DAY, interval_days=180)
    register(db, "WORN", calibrated=NOW - 20 * DAY, cycles_limit=1_000)
    register(db, "CHECKED", calibrated=NOW - 400 * DAY)
    register(db, "FAILED", calibrated=NOW - 30 * DAY)
    register(db, "UNCLAIMED", tenant=None)  # sold, not registered to a lab: not followed
    ingest(
        store_url,
        [
            (NOW - 25 * DAY, UsageReport(cycles_total=10_000, cycles_since_service=0)),
            (NOW - DAY, UsageReport(cycles_total=11_200, cycles_since_service=1_200)),
        ],
        device=pipette("WORN"),
    )
    # a passed quick check is no calibration: the registry's old one still decides
    check = make_run(NOW - 2 * DAY, mode=RunMode.QUICK_CHECK)
    ingest(store_url, [(NOW - 2 * DAY, check.model_copy(update={"pipette": pipette("CHECKED")}))])
    failed = make_run(NOW - 3 * DAY, bias_ul=5.0)
    ingest(store_url, [(NOW - 3 * DAY, failed.model_copy(update={"pipette": pipette("FAILED")}))])
    # a pipette reporting usage that nobody registered keeps its (tenant, serial) key
    ingest(
        store_url,
        [(NOW - DAY, UsageReport(cycles_total=5, cycles_since_service=5))],
        device=pipette("STRAY"),
    )
    repo, publisher = SqlEngineRepository(db), SqlPublisher(db)
    repo.set_balance_calibration("t1", BALANCE.serial, NOW + 100 * DAY)
    assert process_runs(repo, publisher, now=lambda: NOW).recorded == 2

    policy = DuePolicy(interval_days=730, due_soon_days=30, grace_days=14)
    assert refresh_due_states(repo, publisher, policy, now=NOW) == 7
    assert states(db) == {
        "NEVER": ("due", "never_calibrated", "dev-NEVER"),  # due since registration, 10 days
        "OLD": ("overdue", "time", "dev-OLD"),  # the registry's 365 days, not the default 730
        "SHORT": ("due_soon", "time", "dev-SHORT"),  # its own 180-day interval
        "WORN": ("due", "usage", "dev-WORN"),  # 1,200 of its 1,000 cycles, 4 days ago
        "CHECKED": ("overdue", "time", "dev-CHECKED"),
        "FAILED": ("blocked", "failed_calibration", "dev-FAILED"),
        "STRAY": ("due", "never_calibrated", None),
    }
    (due_at,) = db.one("SELECT due_at FROM device_due_state WHERE device_serial = 'SHORT'") or ()
    assert Database.read_at(due_at) == NOW - 170 * DAY + 180 * DAY
    (never_due,) = db.one("SELECT due_at FROM device_due_state WHERE device_serial = 'NEVER'") or ()
    assert Database.read_at(never_due) == NOW - 10 * DAY
    assert {r[0] for r in db.query("SELECT device_id FROM due_state_event")} == {
        *(f"dev-{s}" for s in ("NEVER", "OLD", "SHORT", "WORN", "CHECKED", "FAILED")),
        None,
    }
    assert refresh_due_states(repo, publisher, policy, now=NOW) == 0

    # forecasts carry the registry's id too (devices with usage or records only)
    refresh_forecasts(repo, SqlForecastStore(db), publisher, now=NOW)
    assert dict(db.query("SELECT device_serial, device_id FROM maintenance_forecast")) == {
        "WORN": "dev-WORN",
        "CHECKED": "dev-CHECKED",
        "FAILED": "dev-FAILED",
        "STRAY": None,
    }


def test_a_recorded_calibration_wins_over_the_registry_history(
    store_url: str, db: Database
) -> None:
    register(db, "P-9", calibrated=NOW - 400 * DAY)
    run = make_run(NOW - 5 * DAY).model_copy(update={"pipette": pipette("P-9")})
    ingest(store_url, [(NOW - 5 * DAY, run)])
    repo, publisher = SqlEngineRepository(db), SqlPublisher(db)
    repo.set_balance_calibration("t1", BALANCE.serial, NOW + 100 * DAY)
    process_runs(repo, publisher, now=lambda: NOW)
    refresh_due_states(repo, publisher, DuePolicy(), now=NOW)
    assert states(db) == {"P-9": ("ok", "time", "dev-P-9")}
    (due_at,) = db.one("SELECT due_at FROM device_due_state") or ()
    assert Database.read_at(due_at) == NOW - 5 * DAY + 365 * DAY


def test_registry_usage_stands_in_when_no_usage_is_reported(db: Database) -> None:
    device_id = register(db, "SEEDED", calibrated=NOW - 30 * DAY, cycles_limit=500)
    db.execute("UPDATE portal_devices SET usage_cycles = 600 WHERE id = ?", (device_id,))
    repo = SqlEngineRepository(db)
    refresh_due_states(repo, SqlPublisher(db), DuePolicy(), now=NOW)
    assert states(db) == {"SEEDED": ("due", "usage", "dev-SEEDED")}
