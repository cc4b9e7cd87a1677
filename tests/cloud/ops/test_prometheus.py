"""The Prometheus text format and the metric families /metrics exposes (pure)."""

from __future__ import annotations

import math

from labcal_cloud.ops.collect import StoredFigures, reason_code
from labcal_cloud.ops.prometheus import Family, Sample, render
from labcal_cloud.ops.router import metric_families


def test_render_writes_help_type_and_sorted_escaped_labels() -> None:
    text = render(
        [
            Family(
                "a_total", "Line one\nline two", "counter", (Sample(3, {"z": "1", "b": 'q"\\'}),)
            ),
            Family("b", "empty gauge", "gauge", ()),
            Family("c", "odd values", "gauge", (Sample(0.25), Sample(math.nan), Sample(math.inf))),
        ]
    )
    assert text.splitlines() == [
        "# HELP a_total Line one\\nline two",
        "# TYPE a_total counter",
        'a_total{b="q\\"\\\\",z="1"} 3',
        "# HELP b empty gauge",
        "# TYPE b gauge",
        "# HELP c odd values",
        "# TYPE c gauge",
        "c 0.25",
        "c NaN",
        "c +Inf",
    ]


def test_reason_code_is_the_first_word_of_a_quarantine_reason() -> None:
    assert reason_code("contract: payload invalid") == "contract"
    assert reason_code("storage: value too long") == "storage"
    assert reason_code("station unknown") == "station"
    assert reason_code("") == "unknown"


def test_families_carry_every_required_figure() -> None:
    figures = StoredFigures(
        messages_by_kind={"usage": 4, "run": 1},
        quarantine_by_reason={"storage": 2, "contract": 5},
        outbox_depth={("t1", "st1"): 17},
        reminders_sent_by_channel={"inbox": 3},
        reminder_failures_by_outcome={"failed": 1, "retry": 2},
    )
    text = render(metric_families(figures, {"2xx": 10, "5xx": 1, "scrape_error": 0}, True))
    lines = set(text.splitlines())
    assert 'labcal_ingest_messages_stored_total{kind="usage"} 4' in lines
    assert 'labcal_ingest_quarantined_total{reason="contract"} 5' in lines
    assert 'labcal_station_outbox_depth{station="st1",tenant="t1"} 17' in lines
    assert 'labcal_reminders_sent_total{channel="inbox"} 3' in lines
    assert 'labcal_reminder_attempts_failed_total{outcome="retry"} 2' in lines
    assert 'labcal_errors_total{source="quarantine_storage"} 2' in lines
    assert 'labcal_errors_total{source="reminder_failed"} 1' in lines
    assert 'labcal_errors_total{source="http_5xx"} 1' in lines
    assert 'labcal_http_responses_total{code="2xx"} 10' in lines
    assert "labcal_metrics_scrape_ok 1" in lines
