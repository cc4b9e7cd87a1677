"""The visits a service policy plans per site and week, and the reason shown for each."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from labcal_cloud.engine.service_policy import ForecasterSettings
from labcal_cloud.engine.visit_plan import VisitInputs, plan_visits

TODAY = date(2026, 12, 9)  # a Wednesday
NOW = datetime(2026, 12, 9, 8, 0, tzinfo=UTC)
MONDAY = date(2026, 12, 7)
YEARLY = ForecasterSettings(alert_probability=0.25, lead_days=14, calibration_interval_days=365)


def device(serial: str, **kw: object) -> VisitInputs:
    base: dict[str, object] = {
        "tenant": "t1",
        "site": "Lab A / Main",
        "serial": serial,
        "model": "LP-100",
        "last_calibration": NOW - timedelta(days=100),
    }
    return VisitInputs(**{**base, **kw})  # type: ignore[arg-type]


def test_an_alerting_forecast_plans_a_visit_this_week_with_its_probability() -> None:
    d = device(
        "A1", forecast_alert=True, guard=0.8, alert_probability=0.25, probability_by_lead=0.31
    )
    plan = plan_visits([d], {"t1": YEARLY}, TODAY)
    (v,) = plan.visits
    assert (v.week, v.day, v.kind) == (MONDAY, TODAY, "service")
    assert v.reason == "P(beyond the 80% guard band by the visit) 0.31 ≥ 0.25"


def test_a_later_crossing_plans_the_visit_a_lead_before_it() -> None:
    early = NOW + timedelta(days=40)
    d = device("A2", forecast_alert=False, early_at=early, guard=0.9, alert_probability=0.25)
    (v,) = plan_visits([d], {"t1": YEARLY}, TODAY).visits
    assert v.day == (early - timedelta(days=14)).date()
    assert v.week == v.day - timedelta(days=v.day.weekday())
    assert "P(beyond the 90% guard band) reaches 0.25 on 18 Jan 2027" in v.reason


def test_the_policys_interval_plans_a_calibration_when_the_forecast_is_quiet() -> None:
    d = device("A3", forecast_alert=False, last_calibration=NOW - timedelta(days=350))
    (v,) = plan_visits([d], {"t1": YEARLY}, TODAY).visits
    assert v.kind == "calibration"
    assert v.day == TODAY + timedelta(days=15)
    assert v.reason == "12 months since the last calibration on 24 Dec 2025"
    # a longer interval (the tenant's budget) moves it out of the 12 weeks
    longer = ForecasterSettings(calibration_interval_days=1095)
    assert plan_visits([d], {"t1": longer}, TODAY).visits == ()


def test_no_calibration_on_record_is_due_now_and_others_use_the_defaults() -> None:
    d = device("B1", tenant="t2", site="Lab B / North", last_calibration=None)
    (v,) = plan_visits([d], {"t1": YEARLY}, TODAY).visits
    assert (v.day, v.reason) == (TODAY, "no calibration on record")


def test_visits_are_counted_per_site_and_week() -> None:
    devices = [
        device("A1", forecast_alert=True, probability_by_lead=0.5),
        device("A2", forecast_alert=True, probability_by_lead=0.4),
        device("B1", site="Lab B / North", last_calibration=NOW - timedelta(days=360)),
        device("C1", last_calibration=NOW),  # next calibration in a year: not in the plan
    ]
    plan = plan_visits(devices, {"t1": YEARLY}, TODAY, weeks=4)
    assert plan.weeks == tuple(MONDAY + timedelta(weeks=i) for i in range(4))
    assert plan.sites == ["Lab A / Main", "Lab B / North"]
    assert plan.count("Lab A / Main", MONDAY) == 2
    assert plan.count("Lab B / North", MONDAY) == 0
    assert plan.count("Lab B / North", MONDAY + timedelta(weeks=1)) == 1  # 365 d on 14 Dec
    assert sum(len(v) for v in plan.by_week().values()) == 3
