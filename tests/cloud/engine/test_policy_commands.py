"""``labcal-cloud engine service-policy set|show|clear`` on SQLite and PostgreSQL: the choice is
stored per tenant, shown with the forecaster setting it maps to, and bad input is refused."""

from __future__ import annotations

import pytest

from labcal_cloud.db.gateway import connect
from labcal_cloud.engine.service_policy import choose_point, committed_curve
from labcal_cloud.engine.store_policy_sql import SqlServicePolicyStore

from .test_engine_commands import _run


@pytest.fixture
def url(store_url: str) -> str:
    db = connect(store_url)
    try:
        db.execute(
            "INSERT INTO portal_tenants (id, name, kind, created_at) VALUES ('t1', 'Lab',"
            " 'customer', '2025-01-01T00:00:00+00:00')"
        )
    finally:
        db.close()
    return store_url


def test_set_show_and_clear_a_budget(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["engine", "service-policy", "show"], url) == 0
    assert "no choice stored" in capsys.readouterr().out
    argv = ["engine", "service-policy", "set", "--tenant", "t1", "--budget", "2", "--by", "Sam"]
    assert _run(argv, url) == 0
    out = capsys.readouterr().out
    point, _ = choose_point(committed_curve(), "budget", 2.0)
    assert out.startswith("t1: budget 2 visits per device-year: ")
    assert point.policy in out
    assert "by Sam" in out
    assert f"alert probability {point.settings.alert_probability:g}" in out
    db = connect(url)
    try:
        stored = SqlServicePolicyStore(db).service_policy("t1")
    finally:
        db.close()
    assert stored is not None
    assert (stored.kind, stored.value, stored.updated_by) == (
        "budget",
        2.0,
        "Sam",
    )
    days = ["engine", "service-policy", "set", "--tenant", "t1", "--days-out-of-tolerance", "5"]
    assert _run(days, url) == 0
    capsys.readouterr()
    assert _run(["engine", "service-policy", "show", "--tenant", "t1"], url) == 0
    assert "target 5 days out of tolerance per device-year" in capsys.readouterr().out
    assert _run(["engine", "service-policy", "clear", "--tenant", "t1"], url) == 0
    assert "removed" in capsys.readouterr().out
    assert _run(["engine", "service-policy", "clear", "--tenant", "t1"], url) == 0
    assert "had no choice stored" in capsys.readouterr().out


def test_bad_input_is_refused_with_a_reason(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["engine", "service-policy", "set", "--tenant"]
    assert _run([*base, "nope", "--budget", "2"], url) == 2
    assert "unknown tenant 'nope' (customer tenants: t1)" in capsys.readouterr().out
    assert _run([*base, "t1", "--budget", "-1"], url) == 2
    assert "between 0 and 365" in capsys.readouterr().out
    with pytest.raises(SystemExit):  # argparse: one of the two targets, not both
        _run([*base, "t1", "--budget", "1", "--days-out-of-tolerance", "3"], url)
