"""A tenant's service policy: the choice on the curve (pure), its store on SQLite and
PostgreSQL, and the forecaster settings the engine then forecasts with."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from labcal_cloud.db.gateway import Database, connect
from labcal_cloud.engine.errors import PolicyError
from labcal_cloud.engine.service import process_runs, refresh_forecasts
from labcal_cloud.engine.service_policy import (
    DEFAULT_SETTINGS,
    ForecasterSettings,
    OperatingPoint,
    ServicePolicy,
    choose_point,
    committed_curve,
    settings_for,
)
from labcal_cloud.engine.store_policy_sql import SqlServicePolicyStore
from labcal_cloud.engine.store_sql import SqlEngineRepository, SqlForecastStore

from .test_engine_service import DAY, T0, SqlPublisher, _wearing_pipette

AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def op(visits: float, days: float, **settings: float) -> OperatingPoint:
    return OperatingPoint(f"{visits}/{days}", visits, days, 0.9, ForecasterSettings(**settings))  # type: ignore[arg-type]


CURVE = [op(0.8, 60, guard=1.0), op(1.5, 20, guard=0.9), op(2.5, 2, guard=0.8), op(4, 0.1)]


@pytest.fixture
def db(store_url: str) -> Iterator[Database]:
    database = connect(store_url)
    yield database
    database.close()


def test_a_budget_gets_the_fewest_days_it_can_pay_for() -> None:
    assert choose_point(CURVE, "budget", 2.0)[0] is CURVE[1]
    assert choose_point(CURVE, "budget", 10)[0] is CURVE[3]
    point, why = choose_point(CURVE, "budget", 0.5)
    assert point is CURVE[0]
    assert "no forecaster setting costs ≤ 0.5" in why


def test_a_target_gets_the_cheapest_setting_that_meets_it() -> None:
    assert choose_point(CURVE, "days_out_of_tolerance", 5)[0] is CURVE[2]
    assert choose_point(CURVE, "days_out_of_tolerance", 100)[0] is CURVE[0]
    point, why = choose_point(CURVE, "days_out_of_tolerance", 0.01)
    assert point is CURVE[3]
    assert "the lowest is 0.1" in why
    with pytest.raises(PolicyError):
        choose_point([], "budget", 1)


def test_bad_choices_are_refused_with_the_reason() -> None:
    with pytest.raises(PolicyError, match="target must be one of"):
        ServicePolicy("t1", "visits", 1.0, AT)  # type: ignore[arg-type]
    with pytest.raises(PolicyError, match="between 0 and 365"):
        ServicePolicy("t1", "budget", -1.0, AT)
    with pytest.raises(PolicyError, match="between 0 and 365"):
        ServicePolicy("t1", "days_out_of_tolerance", float("nan"), AT)
    with pytest.raises(PolicyError, match="plans nothing"):
        ServicePolicy("t1", "budget", 0.0, AT)


def test_without_a_choice_the_defaults_apply() -> None:
    settings, why = settings_for(None, CURVE)
    assert settings == DEFAULT_SETTINGS
    assert "defaults" in why
    settings, why = settings_for(ServicePolicy("t1", "budget", 2.0, AT), CURVE)
    assert settings.guard == 0.9
    assert why.startswith("budget 2 visits per device-year")


def test_the_committed_curve_is_well_formed_and_buys_fewer_days_for_more_visits() -> None:
    curve = committed_curve()
    assert len(curve) >= 3
    assert [p.visits for p in curve] == sorted(p.visits for p in curve)
    days = [choose_point(curve, "budget", b)[0].out_of_tolerance_days for b in (1, 2, 4, 8)]
    assert days == sorted(days, reverse=True)
    assert all(0 < p.settings.alert_probability < 1 and p.settings.guard > 0 for p in curve)


def test_the_store_keeps_one_choice_per_tenant(db: Database) -> None:
    store = SqlServicePolicyStore(db)
    assert store.service_policy("t1") is None
    assert store.service_policies() == {}
    store.save_service_policy(ServicePolicy("t1", "budget", 2.0, AT, "Paul Planner"))
    store.save_service_policy(ServicePolicy("t2", "days_out_of_tolerance", 5.0, AT))
    store.save_service_policy(ServicePolicy("t1", "budget", 1.5, AT + DAY, "Sam"))  # replaces
    assert store.service_policy("t1") == ServicePolicy("t1", "budget", 1.5, AT + DAY, "Sam")
    assert {t: (p.kind, p.value) for t, p in store.service_policies().items()} == {
        "t1": ("budget", 1.5),
        "t2": ("days_out_of_tolerance", 5.0),
    }
    assert store.clear_service_policy("t1") is True
    assert store.clear_service_policy("t1") is False
    assert list(store.service_policies()) == ["t2"]
    with pytest.raises(Exception, match=r"(?i)check"):
        db.execute(
            "INSERT INTO engine_service_policy (tenant, target, value, updated_at)"
            " VALUES ('t3', 'visits', 1, ?)",
            (db.at(AT),),
        )


def _forecast_row(db: Database) -> tuple[object, ...]:
    row = db.one(
        "SELECT alert, guard, alert_probability, lead_days, probability_by_lead, reason"
        " FROM maintenance_forecast"
    )
    assert row is not None
    return tuple(row)


def test_the_engine_forecasts_with_the_tenants_choice(store_url: str, db: Database) -> None:
    _wearing_pipette(store_url)
    repo, forecasts, publisher = SqlEngineRepository(db), SqlForecastStore(db), SqlPublisher(db)
    policies = SqlServicePolicyStore(db)
    process_runs(repo, publisher, now=lambda: T0 + 61 * DAY)
    now = T0 + 61 * DAY + timedelta(hours=1)

    refresh_forecasts(repo, forecasts, publisher, now=now, policies=policies, curve=CURVE)
    alert, guard, p_alert, lead, p_lead, _ = _forecast_row(db)
    assert (bool(alert), guard, p_alert, lead) == (True, 0.8, 0.2, 30.0)  # no choice: defaults
    assert isinstance(p_lead, float)
    assert p_lead >= 0.2

    chosen = op(1.0, 30, guard=0.95, alert_probability=0.4, lead_days=14.0)
    policies.save_service_policy(ServicePolicy("t1", "budget", 1.0, now))
    refresh_forecasts(repo, forecasts, publisher, now=now, policies=policies, curve=[chosen])
    _, guard, p_alert, lead, _, _ = _forecast_row(db)
    assert (guard, p_alert, lead) == (0.95, 0.4, 14.0)

    rationed = op(0.5, 80, alert_probability=0.2, min_life_days=10_000.0)
    refresh_forecasts(repo, forecasts, publisher, now=now, policies=policies, curve=[rationed])
    alert, *_, reason = _forecast_row(db)
    assert not alert
    assert "the budget leaves it to its calibrations" in str(reason)
