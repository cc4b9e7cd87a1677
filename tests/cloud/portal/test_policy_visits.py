"""The planner's page of the service policy, on SQLite and PostgreSQL: for a seeded fleet of
two customers (one with a chosen budget, one on the defaults), the visits per site and week and
the reason of each (the forecast's probability, the policy's interval)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from labcal_cloud.engine.forecast import MaintenanceForecast
from labcal_cloud.engine.service_policy import ServicePolicy, choose_point, committed_curve
from labcal_cloud.engine.store_policy_sql import SqlServicePolicyStore
from labcal_cloud.engine.store_sql import SqlForecastStore
from labcal_cloud.portal.app import create_app
from labcal_cloud.registry.store import OrderItem

from .helpers import PASSWORD, World, build_world, client_for, login
from .live_server import CHROMIUM_ARGS, chromium_path, free_port, serve


def _alerting(now, p_by_visit: float) -> MaintenanceForecast:  # type: ignore[no-untyped-def]
    soon = now + timedelta(days=10)
    return MaintenanceForecast(
        0.8, 30_000, 31_000, 33_000, 36_000, soon, soon, soon, True, "alert", 0.25, 30.0, p_by_visit
    )


def _quiet(now, early_days: float) -> MaintenanceForecast:  # type: ignore[no-untyped-def]
    early = now + timedelta(days=early_days)
    return MaintenanceForecast(
        0.9, 1_000, 20_000, 30_000, 40_000, early, early, early, False, "ok", 0.25, 14.0, 0.01
    )


def _seed(world: World) -> None:
    reg, now, db = world.services.registry, world.clock(), world.services.db
    forecasts = SqlForecastStore(db)
    a, b = world.a, world.b
    hot = reg.add(a.tenant.id, a.site.id, OrderItem("LabCal", "LP-100", "HOT-1"))
    reg.mark_calibrated(hot.id, now - timedelta(days=60), 365)
    forecasts.save_forecast(a.tenant.id, "HOT-1", _alerting(now, 0.31), now, device_id=hot.id)
    later = reg.add(a.tenant.id, a.site.id, OrderItem("LabCal", "LP-100", "LATER-1"))
    reg.mark_calibrated(later.id, now - timedelta(days=30), 365)
    forecasts.save_forecast(a.tenant.id, "LATER-1", _quiet(now, 40), now, device_id=later.id)
    old = reg.add(b.tenant.id, b.site.id, OrderItem("LabCal", "LP-20", "OLD-1"))
    reg.mark_calibrated(old.id, now - timedelta(days=360), 365)
    fresh = reg.add(b.tenant.id, b.site.id, OrderItem("LabCal", "LP-20", "FRESH-1"))
    reg.mark_calibrated(fresh.id, now - timedelta(days=5), 365)
    SqlServicePolicyStore(db).save_service_policy(
        ServicePolicy(a.tenant.id, "budget", 2.0, now, "Paul Planner")
    )


def _check_page(world: World) -> None:
    _seed(world)
    client = client_for(world)
    login(client, world.planner)
    r = client.get("/provider/service-policy")
    assert r.status_code == 200, r.text
    html = r.text
    point, _ = choose_point(committed_curve(), "budget", 2.0)
    assert "budget 2 visits per device-year" in html
    assert point.policy in html
    rows = re.findall(
        r"<tr><td>(\d\d \w\w\w)</td><td>([^<]+)</td><td>([^<]+)</td>"
        r"<td>[^<]+</td><td>(\w+)</td><td>([^<]+)</td></tr>",
        html,
    )
    why = {serial.split()[-1]: (kind, reason) for _, _, serial, kind, reason in rows}
    assert why["HOT-1"] == (
        "service",
        "P(beyond the 80% guard band by the visit) 0.31 ≥ 0.25",
    )
    kind, reason = why["LATER-1"]
    assert kind == "service"
    assert reason.startswith("forecast: P(beyond the 90% guard band) reaches 0.25 on ")
    # lab B has no choice: the default 365-day interval plans OLD-1 in 5 days, not FRESH-1
    assert why["OLD-1"][0] == "calibration"
    assert why["OLD-1"][1].startswith("12 months since the last calibration on ")
    assert "FRESH-1" not in why
    sites = {site for _, site, _, _, _ in rows}
    assert sites == {"Lab A / A Main building", "Lab B / B Main building"}
    # the site × week table counts the same visits
    counts = re.findall(r"<tr><td>(Lab [AB] / [^<]+)</td>((?:<td[^>]*>\d*</td>)+)</tr>", html)
    total = {site: sum(int(n) for n in re.findall(r">(\d+)<", cells)) for site, cells in counts}
    assert total == {"Lab A / A Main building": 2, "Lab B / B Main building": 1}
    # lab staff do not see the provider's plan
    lab = client_for(world)
    login(lab, world.a.user)
    assert lab.get("/provider/service-policy", follow_redirects=False).status_code in (303, 403)


def test_policy_visits_page_on_sqlite(world: World) -> None:
    _check_page(world)


@pytest.mark.usefixtures("fresh_database_url")
def test_policy_visits_page_on_postgresql(pg_world: World) -> None:
    _check_page(pg_world)


@pytest.mark.slow
@pytest.mark.parametrize("width", [390, 1280])
def test_policy_visits_page_fits_a_phone_and_a_desktop_in_chromium(
    tmp_path: Path, signing_pair: tuple[Path, Path], width: int
) -> None:
    port = free_port()
    key, cert = signing_pair
    world = build_world(
        f"sqlite:///{tmp_path / 'live.db'}",
        signing_key=key,
        signing_cert=cert,
        base_url=f"http://127.0.0.1:{port}",
    )
    _seed(world)
    app = create_app(world.services.settings, services=world.services)
    try:
        with serve(app, port) as url, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": width, "height": 844})
            page.goto(f"{url}/login")
            page.fill("#email", world.planner.email)
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_load_state("load")
            page.click('header nav a:text-is("Policy visits")')
            page.wait_for_url(f"{url}/provider/service-policy")
            assert page.inner_text("h1") == "Visits the service policy plans"
            assert page.locator("#visits tbody tr").count() == 3
            sizes = page.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
            )
            assert sizes[0] <= sizes[1], f"the page overflows sideways at {width} px: {sizes}"
            browser.close()
    finally:
        world.services.db.close()
