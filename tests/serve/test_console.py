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


def test_the_scheduler_deliveries_are_said_when_they_grow() -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from labcal_cloud.serve.deliveries import DeliveryWatch

    served = {"text": ""}

    class Metrics(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = served["text"].encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Metrics)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    said: list[str] = []
    try:
        watch = DeliveryWatch(f"http://127.0.0.1:{server.server_address[1]}/metrics", said.append)
        sent = 'labcal_scheduler_deliveries_total{kind="reminder",outcome="sent"} %d\n'
        served["text"] = sent % 0
        watch.check(pid=10, now=100.0)
        served["text"] = sent % 2
        watch.check(pid=10, now=101.0)  # too soon: not read
        watch.check(pid=10, now=102.0)
        watch.check(pid=10, now=104.0)  # unchanged: nothing said
        served["text"] = sent % 1  # a restarted scheduler (new pid) counts from 0
        watch.check(pid=11, now=106.0)
    finally:
        server.shutdown()
        server.server_close()
    assert said == [
        "scheduler: 2 reminder(s) delivered (2 since the start)",
        "scheduler: 1 reminder(s) delivered (3 since the start)",
    ]
    assert watch.delivered == 3
