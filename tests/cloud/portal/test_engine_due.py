"""The portal shows the engine's stored due state (status, reason, due date) and maintenance
forecast, joined on the registry's device id; a device the engine has not computed yet is
``unknown`` ("due state not computed yet"). Both backends.

The states are computed by the engine itself (``refresh_due_states`` over the world's database)
from calibrations placed at the engine's boundaries (``status_for``).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from labcal_cloud.engine.due import DuePolicy, status_for
from labcal_cloud.engine.forecast import MaintenanceForecast
from labcal_cloud.engine.store_sql import SqlForecastStore
from labcal_cloud.registry.model import NOT_COMPUTED, DueState
from labcal_cloud.registry.store import RANKED, OrderItem

from .engine_due import compute_due_states, store_engine_record
from .helpers import World, api_token, client_for

POLICY = DuePolicy()
# days left at the engine's boundaries: ok > 30 ≥ due soon > 0 ≥ due > -14 ≥ overdue
DAYS_LEFT = [31.0, 30.5, 30.0, 0.5, 0.0, -13.5, -14.0, -40.0]
FORECAST = "likely leaves 80 % of MPE around 2026-05-10"


def _store(world: World) -> dict[str, DueState]:
    """Register devices, calibrate them so that the engine finds them at its boundaries, one
    with a failed engine record, one uncomputed; return the expected states."""
    reg, tenant, now = world.services.registry, world.a.tenant.id, world.clock()
    expected: dict[str, DueState] = {}
    for i, days in enumerate(DAYS_LEFT):
        device = reg.add(tenant, world.a.site.id, OrderItem("Acme", "P", f"E{i:02d}"))
        reg.mark_calibrated(device.id, now - timedelta(days=365 - days), 365)
        expected[device.id] = DueState(status_for(days, POLICY).value)
    blocked = reg.add(tenant, world.a.site.id, OrderItem("Acme", "P", "EB"))
    reg.mark_calibrated(blocked.id, now - timedelta(days=1), 365)  # registry history: passed
    assert not store_engine_record(world, tenant, "EB", now - timedelta(hours=2), bias_mg=5.0)
    expected[blocked.id] = DueState.BLOCKED
    assert compute_due_states(world, POLICY) == len(expected)
    # registered after the engine's pass: not computed yet
    plain = reg.add(tenant, world.a.site.id, OrderItem("Acme", "P", "NOENGINE"))
    expected[plain.id] = DueState.UNKNOWN
    e00 = next(k for k in expected if reg.device(tenant, k).serial == "E00")
    SqlForecastStore(world.services.db).save_forecast(
        tenant,
        "E00",
        MaintenanceForecast(0.8, 100, 200, 300, 400, None, None, None, True, FORECAST),
        now,
        device_id=e00,
    )
    return expected


def _engine_table(world: World) -> dict[str, tuple[str, str]]:
    return {
        r[0]: (r[1], r[2])
        for r in world.services.db.query("SELECT device_id, status, reason FROM device_due_state")
    }


def _check(world: World) -> None:
    expected = _store(world)
    reg, tenant, today = world.services.registry, world.a.tenant.id, world.clock().date()
    table = _engine_table(world)
    lines, counts = reg.overview_page(tenant, today, limit=1000)
    assert {x.device.id: x.due.state for x in lines} == expected
    for x in lines:  # the engine's reason verbatim, or "not computed yet"
        assert x.due.reason == (table[x.device.id][1] if x.device.id in table else NOT_COMPUTED)
    assert [x.due.state for x in lines] == sorted((x.due.state for x in lines), key=RANKED.index)
    for state in DueState:
        wanted = {k for k, s in expected.items() if s is state}
        assert counts.get(state, 0) == len(wanted)
        page, _ = reg.overview_page(tenant, today, state=state, limit=1000)
        assert {x.device.id for x in page} == wanted
    by_serial = {x.device.serial: x.due for x in lines}
    assert by_serial["E00"].due_date == (world.clock() + timedelta(days=31)).date()
    assert by_serial["E00"].forecast == FORECAST
    assert by_serial["E01"].forecast is None
    assert by_serial["NOENGINE"].due_date is None
    # the provider's planning heat map counts the engine's due dates: every computed device falls
    # in the first 12 weeks, the blocked one (due since its failed calibration) in week 0, where
    # the registry's date alone (calibrated yesterday) would put it a year out
    heat = world.services.reports.heat_map(12)
    cells = sum(heat.cell(site, week) for site in heat.sites for week in heat.weeks)
    assert cells == len(DAYS_LEFT) + 1
    # the unpaged overview (booking bundles, reports) agrees
    assert {x.device.id: x.due.state for x in reg.overview(tenant, today)} == expected


def test_overview_uses_engine_due_state_sqlite(world: World) -> None:
    _check(world)


@pytest.mark.postgres
def test_overview_uses_engine_due_state_postgresql(pg_world: World) -> None:
    _check(pg_world)


def test_the_engine_state_of_another_tenants_device_with_the_same_serial_is_not_shown(
    world: World,
) -> None:
    reg = world.services.registry
    mine = reg.add(world.a.tenant.id, world.a.site.id, OrderItem("Acme", "P", "SAME"))
    other = reg.add(world.b.tenant.id, world.b.site.id, OrderItem("Other", "Q", "SAME"))
    reg.mark_calibrated(other.id, world.clock() - timedelta(days=400), 365)
    compute_due_states(world)
    assert reg.due_view(world.a.tenant.id, mine, world.clock().date()).state is DueState.DUE
    assert reg.due_view(world.b.tenant.id, other, world.clock().date()).state is DueState.OVERDUE


def test_pages_show_engine_reason_and_forecast(world: World) -> None:
    _store(world)
    table = _engine_table(world)
    client = client_for(world)
    headers = api_token(world, world.a.admin)
    overview = client.get("/devices?state=blocked", headers=headers).text
    assert "blocked: the calibration on " in overview
    assert ">Blocked 1<" in overview
    lines = world.services.registry.overview(world.a.tenant.id, world.clock().date())
    device = next(x.device for x in lines if x.device.serial == "E00")
    page = client.get(f"/devices/{device.id}", headers=headers).text
    assert table[device.id][1] in page
    assert table[device.id][1].startswith("ok, due in 31 days")
    assert "Maintenance forecast" in page
    assert FORECAST in page
    plain = next(x.device for x in lines if x.device.serial == "NOENGINE")
    assert NOT_COMPUTED in client.get(f"/devices/{plain.id}", headers=headers).text
    api = client.get("/api/v1/devices?state=due", headers=headers).json()
    assert sorted(d["serial"] for d in api) == ["E04", "E05"]
    assert all(d["due_reason"] == table[d["id"]][1] for d in api)
