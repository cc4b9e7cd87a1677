"""KPIs, service planning, compliance report, NPS survey and GDPR (export, consent, erasure)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest

from labcal_cloud.registry.model import Device, DueState
from labcal_cloud.reports.kpis import KpiInputs, compute_kpis, net_promoter_score
from labcal_cloud.reports.planning import PlanDevice, forecast_due, heat_map

from .engine_due import compute_due_states
from .helpers import World, api_token, client_for, login, record_calibration


@pytest.mark.parametrize(
    ("scores", "nps"),
    [([], None), ([10, 9, 9, 10], 100.0), ([0, 6, 3], -100.0), ([10, 9, 8, 7, 6], 20.0)],
)
def test_net_promoter_score(scores: list[int], nps: float | None) -> None:
    assert net_promoter_score(scores) == nps


def test_kpis_from_counts() -> None:
    k = compute_kpis(
        KpiInputs(
            sold=10,
            sold_registered=4,
            registered=8,
            active=6,
            reminding=3,
            booked_due=1,
            recalibrations=[
                (date(2026, 1, 5), date(2026, 1, 10)),
                (date(2026, 2, 5), date(2026, 1, 31)),
            ],
            nps_scores=[10, 3],
        )
    )
    assert (k.registration_rate, k.activation_rate, k.reminder_conversion, k.on_time_rate) == (
        0.4,
        0.75,
        0.25,
        0.5,
    )
    assert k.devices_with_active_reminders == 3
    assert k.nps == 0.0
    empty = compute_kpis(KpiInputs(0, 0, 0, 0, 0, 0, [], []))
    assert empty.registration_rate is None
    assert empty.on_time_rate is None


def _device(limit: int = 0, used: int = 0) -> Device:
    return Device("d", "t", "s", "Acme", "P", "1", 100, None, None, 365, None, used, limit)


def test_forecast_due_takes_the_earlier_of_time_and_usage() -> None:
    today = date(2026, 3, 2)
    assert forecast_due(_device(), date(2026, 6, 1), 500, today) == date(2026, 6, 1)
    # 10,000 cycles left at 2,000 a week: 5 weeks
    assert forecast_due(_device(20_000, 10_000), date(2026, 6, 1), 2000, today) == date(2026, 4, 6)
    assert forecast_due(_device(20_000, 10_000), None, 0, today) is None


def test_heat_map_counts_per_site_and_week_with_overdue_in_week_one() -> None:
    today = date(2026, 3, 4)  # a Wednesday; week columns start on Mondays
    devices = [
        PlanDevice("Lab / A", DueState.OVERDUE, date(2026, 1, 1), date(2026, 1, 1)),
        PlanDevice("Lab / A", DueState.DUE_SOON, date(2026, 3, 12), date(2026, 3, 12)),
        PlanDevice("Lab / B", DueState.OK, date(2026, 9, 1), date(2026, 3, 20)),  # by usage
        PlanDevice("Lab / B", DueState.OK, date(2026, 12, 1), date(2026, 12, 1)),  # beyond 12 weeks
        PlanDevice("Lab / B", DueState.UNKNOWN, None, None),
    ]
    hm = heat_map(devices, today, weeks=12)
    assert hm.weeks[0] == date(2026, 3, 2)
    assert hm.due == {("Lab / A", date(2026, 3, 2)): 1, ("Lab / A", date(2026, 3, 9)): 1}
    assert hm.forecast_only == {("Lab / B", date(2026, 3, 16)): 1}
    assert hm.bundles == [("Lab / A", 2), ("Lab / B", 1)]
    assert hm.peak == 1


def test_kpi_planning_and_compliance_api(world: World) -> None:
    client = client_for(world)
    provider = api_token(world, world.planner)
    codes = client.post(
        "/api/v1/orders",
        headers=provider,
        json={
            "order_ref": "K",
            "devices": [{"make": "Acme", "model": "P100", "serial": f"K-{i}"} for i in range(4)],
        },
    ).json()
    lab = api_token(world, world.a.admin)
    claimed = client.post(
        f"/api/v1/claims/{codes[0]['claim_code']}", headers=lab, json={"site_id": world.a.site.id}
    ).json()
    record_calibration(world, claimed["id"], "K-0", ended_at=datetime(2025, 3, 1, tzinfo=UTC))
    record_calibration(world, claimed["id"], "K-0", ended_at=datetime(2025, 3, 20, tzinfo=UTC))
    compute_due_states(world)
    client.post("/api/v1/nps", json={"score": 10}, headers=lab)
    assert client.post("/api/v1/nps", json={"score": 11}, headers=lab).status_code == 422
    k = client.get("/api/v1/kpis", headers=provider).json()
    assert k["registration_rate"] == 0.25
    assert k["activation_rate"] == 1.0
    assert k["on_time_rate"] == 1.0
    assert k["devices_with_active_reminders"] == 1  # due 2026-03-20, not booked
    assert k["nps"] == 100.0
    assert client.get("/api/v1/kpis", headers=lab).status_code == 403
    plan = client.get("/api/v1/planning", headers=provider).json()
    assert plan["cells"] == [
        {"site": "Lab A / A Main building", "week": "2026-03-16", "due": 1, "forecast_due": 0}
    ]
    assert "Lab A / A Main building" in client.get("/provider/planning", headers=provider).text
    assert "Registration rate" in client.get("/provider/kpis", headers=provider).text
    r = client.get("/api/v1/reports/compliance.csv", headers=lab)
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [(x["serial"], x["state"], x["result"], x["next_due"]) for x in rows] == [
        ("K-0", "due_soon", "pass", "2026-03-20")
    ]
    assert (
        client.get("/api/v1/reports/compliance", headers=api_token(world, world.b.admin)).json()
        == []
    )


def test_nps_survey_is_asked_once_on_the_overview(world: World) -> None:
    client = client_for(world)
    csrf = login(client, world.a.user)
    client.post(
        "/api/v1/devices",
        headers={"X-CSRF-Token": csrf},
        json={"site_id": world.a.site.id, "serial": "N-1", "make": "Acme", "model": "P100"},
    )
    assert 'id="nps"' in client.get("/devices").text
    assert client.post("/nps", data={"csrf_token": csrf, "score": "9"}).status_code == 200
    assert 'id="nps"' not in client.get("/devices").text


def test_gdpr_consent_export_and_erasure_keeps_pseudonymised_certificates(world: World) -> None:
    client = client_for(world)
    csrf = login(client, world.planner)
    assert (
        client.put(
            "/api/v1/me/consent", json={"marketing": True}, headers={"X-CSRF-Token": csrf}
        ).json()["marketing_consent"]
        is True
    )
    export = client.get("/api/v1/me/export").json()
    assert export["user"]["email"] == world.planner.email
    assert export["user"]["marketing_consent"] is True
    lab = api_token(world, world.a.admin)
    device = (
        client_for(world)
        .post(
            "/api/v1/devices",
            headers=lab,
            json={"site_id": world.a.site.id, "serial": "G-1", "make": "Acme", "model": "P100"},
        )
        .json()
    )
    c = record_calibration(world, device["id"], "G-1", operator=world.planner.name)
    assert c["operator"] == world.planner.name
    assert client.delete("/api/v1/me", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert client.get("/api/v1/me").status_code == 401
    kept = client_for(world).get(f"/api/v1/calibrations/{c['id']}", headers=lab).json()
    assert kept["number"] == c["number"]  # the legally required record stays
    assert kept["operator"].startswith("operator-")
    assert world.planner.name not in kept["operator"]
    row = world.services.db.one(
        "SELECT email, name FROM portal_users WHERE id = ?", (world.planner.id,)
    )
    assert row is not None
    assert world.planner.email not in row[0]
    assert row[1] == "deleted user"
