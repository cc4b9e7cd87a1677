"""What reaches the console from the roles' output, and the metric the scheduler's deliveries
are read from (pure)."""

from __future__ import annotations

from labcal_cloud.serve.console import LineFilter
from labcal_cloud.serve.probes import metric_value


def test_change_lines_pass_once_ready_lines_and_other_output_do_not() -> None:
    shown = LineFilter(("pipeline", "scheduler"))
    cert = "pipeline: certificate LC-20261207-ABCD1234 signed for Acme P1000 LP1000-0101"
    lines = [
        ("pipeline", "pipeline: ready"),
        ("pipeline", cert),
        ("pipeline", cert),  # a repetition
        ("pipeline", "2026-12-07 INFO labcal_cloud.engine: pass done"),  # a log line
        ("ingest", "ingest: labcal-ingest-serve subscribed"),  # not a role that reports changes
        ("pipeline", "pipeline: due states changed for 3 devices"),
        ("pipeline", cert),  # not the line before: shown again
        ("scheduler", "scheduler: ready"),
    ]
    assert [line for role, line in lines if shown.shown(role, line)] == [
        cert,
        "pipeline: due states changed for 3 devices",
        cert,
    ]


TEXT = """# HELP labcal_scheduler_deliveries_total Deliveries.
# TYPE labcal_scheduler_deliveries_total counter
labcal_scheduler_deliveries_total{kind="reminder",outcome="retry"} 4
labcal_scheduler_deliveries_total{kind="reminder",outcome="sent"} 3
labcal_scheduler_deliveries_total{kind="webhook",outcome="sent"} 7
labcal_scheduler_passes_total 12
"""


def test_metric_value_by_name_and_labels() -> None:
    name = "labcal_scheduler_deliveries_total"
    assert metric_value(TEXT, name, {"kind": "reminder", "outcome": "sent"}) == 3
    assert metric_value(TEXT, name, {"kind": "webhook", "outcome": "sent"}) == 7
    assert metric_value(TEXT, "labcal_scheduler_passes_total", {}) == 12
    assert metric_value(TEXT, name, {"kind": "sms"}) is None
    assert metric_value("", name, {}) is None
