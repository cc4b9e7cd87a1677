"""The portal shows the engine's stored due state (status, reason, due date) and maintenance
forecast; the portal's own estimate ranks only devices the engine has not computed.

The engine's states come from the engine's own rule (``status_for``) at its boundaries, and on
PostgreSQL they are written by the engine's own adapter (``PostgresEngineRepository``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from labcal_cloud.engine.due import DueBasis, DuePolicy, DueStatus, status_for
from labcal_cloud.engine.due import DueState as EngineDueState
from labcal_cloud.engine.store_pg import PostgresEngineRepository
from labcal_cloud.registry.model import DueState
from labcal_cloud.registry.store import RANKED, OrderItem

from .helpers import World, api_token, client_for

TODAY = date(2026, 3, 2)
NOW = datetime.combine(TODAY, time(12), UTC)
POLICY = DuePolicy()
# days left at the engine's boundaries: ok > 30 ≥ due soon > 0 ≥ due > -14 ≥ overdue
DAYS_LEFT = [31.0, 30.5, 30.0, 0.5, 0.0, -13.5, -14.0, -40.0]


def _store(world: World, url: str | None) -> dict[str, tuple[DueState, str]]:
    """Register devices, give most an engine state; return the expected state and reason."""
    reg, tenant = world.services.registry, world.a.tenant.id
    states: dict[str, EngineDueState] = {}
    for i, days in enumerate(DAYS_LEFT):
        status = status_for(days, POLICY)
        states[f"E{i:02d}"] = EngineDueState(
            status, DueBasis.TIME, NOW + timedelta(days=days), f"engine says {status} ({days})"
        )
    states["EB"] = EngineDueState(
        DueStatus.BLOCKED, DueBasis.FAILED_CALIBRATION, NOW, "blocked: the calibration failed"
    )
    expected: dict[str, tuple[DueState, str]] = {}
    for serial, state in states.items():
        device = reg.add(tenant, world.a.site.id, OrderItem("Acme", "P", serial))
        # the portal's estimate alone would call this device ok (calibrated yesterday)
        reg.mark_calibrated(device.id, NOW - timedelta(days=1), 365)
        expected[device.id] = (DueState(state.status.value), state.reason)
    if url is not None:  # the engine's own writer
        repo = PostgresEngineRepository(url)
        try:
            for serial, state in states.items():
                repo.save_due_state(tenant, serial, state, None)
        finally:
            repo.close()
    else:
        for serial, state in states.items():
            world.services.db.execute(
                "INSERT INTO device_due_state VALUES (?, ?, ?, ?, ?, ?, ?)",
                (tenant, serial, state.status.value, state.basis.value,
                 state.due_at.isoformat(), state.reason, NOW.isoformat()),
            )  # fmt: skip
    plain = reg.add(tenant, world.a.site.id, OrderItem("Acme", "P", "NOENGINE"))
    expected[plain.id] = (DueState.UNKNOWN, "no calibration on record")
    at: object = NOW if url is not None else NOW.isoformat()
    world.services.db.execute(
        "INSERT INTO maintenance_forecast (tenant, device_serial, computed_at, guard, alert,"
        " reason) VALUES (?, ?, ?, ?, ?, ?)",
        (tenant, "E00", at, 0.8, True, "likely leaves 80 % of MPE around 2026-05-10"),
    )
    return expected


def _check(world: World, url: str | None) -> None:
    expected = _store(world, url)
    reg, tenant = world.services.registry, world.a.tenant.id
    lines, counts = reg.overview_page(tenant, TODAY, limit=1000)
    assert {x.device.id: (x.due.state, x.due.reason) for x in lines} == expected
    assert [x.due.state for x in lines] == sorted((x.due.state for x in lines), key=RANKED.index)
    for state in DueState:
        wanted = {k for k, (s, _) in expected.items() if s is state}
        assert counts.get(state, 0) == len(wanted)
        page, _ = reg.overview_page(tenant, TODAY, state=state, limit=1000)
        assert {x.device.id for x in page} == wanted
    by_serial = {x.device.serial: x.due for x in lines}
    assert by_serial["E00"].source == "engine"
    assert by_serial["E00"].due_date == (NOW + timedelta(days=31)).date()
    assert by_serial["E00"].forecast == "likely leaves 80 % of MPE around 2026-05-10"
    assert by_serial["E01"].forecast is None
    assert by_serial["NOENGINE"].source == "estimate"
    # the provider's planning heat map counts the engine's due dates (the estimate alone would
    # see no device due in 12 weeks: all were calibrated yesterday)
    heat = world.services.reports.heat_map(12)
    assert sum(heat.cell(site, week) for site in heat.sites for week in heat.weeks) == 9
    # the unpaged overview (booking bundles, reports) agrees
    assert {x.device.id: x.due.state for x in reg.overview(tenant, TODAY)} == {
        k: s for k, (s, _) in expected.items()
    }


def test_overview_uses_engine_due_state_sqlite(world: World) -> None:
    _check(world, None)


@pytest.mark.postgres
def test_overview_uses_engine_due_state_postgresql(
    pg_world: World, fresh_database_url: str
) -> None:
    _check(pg_world, fresh_database_url)


def test_pages_show_engine_reason_and_forecast(world: World) -> None:
    _store(world, None)
    client = client_for(world)
    headers = api_token(world, world.a.admin)
    overview = client.get("/devices?state=blocked", headers=headers).text
    assert "blocked: the calibration failed" in overview
    assert ">Blocked 1<" in overview
    lines = world.services.registry.overview(world.a.tenant.id, TODAY)
    device = next(x.device for x in lines if x.device.serial == "E00")
    page = client.get(f"/devices/{device.id}", headers=headers).text
    assert "engine says ok (31.0)" in page
    assert "Maintenance forecast" in page
    assert "likely leaves 80 % of MPE around 2026-05-10" in page
    api = client.get("/api/v1/devices?state=due", headers=headers).json()
    assert sorted(d["serial"] for d in api) == ["E04", "E05"]
    assert all(d["due_reason"].startswith("engine says due") for d in api)
