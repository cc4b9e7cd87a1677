"""Webhooks: signed bodies, domain events → webhooks, fan-out to endpoints in the caller's
transaction, retries with backoff, delivery log — against real SQLite and PostgreSQL (the same
tests on both, ``store_url``) and a real HTTP receiver."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from labcal_cloud.db.gateway import Database, connect
from labcal_cloud.engine.due import DueBasis, DueState, DueStatus, due_state_change
from labcal_cloud.engine.events import DueStateChangedEvent, EventPublisher, event_id
from labcal_cloud.notify.webhooks import (
    WebhookEvent,
    WebhookSignatureError,
    due_state_changed,
    sign_webhook,
    verify_webhook,
    webhook_body,
    webhook_for,
)
from labcal_cloud.scheduler.event_outbox import WebhookOutbox
from labcal_cloud.scheduler.runner import run_webhook_pass
from labcal_cloud.scheduler.webhook_store import SqlWebhookStore

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SECRET = "whsec-0123456789abcdef"


def test_signature_round_trip_and_refusals() -> None:
    body = webhook_body(WebhookEvent.DUE_STATE_CHANGED, "e1", T0, "t1", {"a": 1})
    header = sign_webhook(body, SECRET.encode(), 1000)
    verify_webhook(body, header, SECRET.encode(), 1100)
    with pytest.raises(WebhookSignatureError, match="does not match"):
        verify_webhook(body + b" ", header, SECRET.encode(), 1100)
    with pytest.raises(WebhookSignatureError, match="outside"):
        verify_webhook(body, header, SECRET.encode(), 5000)
    with pytest.raises(WebhookSignatureError, match="malformed"):
        verify_webhook(body, "v1=abc", SECRET.encode(), 1000)


def test_due_state_change_payload() -> None:
    old = DueState(DueStatus.OK, DueBasis.TIME, T0 + timedelta(days=40), "ok")
    new = DueState(DueStatus.DUE_SOON, DueBasis.USAGE, T0 + timedelta(days=12), "due in 12 days")
    change = due_state_change(old, new, T0)
    assert change is not None
    data = due_state_changed("dev-1", change)
    assert data["previous"] == "ok"
    assert data["current"] == "due_soon"
    assert data["reason"] == "due in 12 days"


class Receiver(BaseHTTPRequestHandler):
    answers: ClassVar[list[int]] = []
    received: ClassVar[list[tuple[dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        code = self.answers.pop(0) if self.answers else 200
        if code == 200:
            self.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(code)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def receiver() -> Iterator[tuple[type[Receiver], str]]:
    handler = type("R", (Receiver,), {"answers": [], "received": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield handler, f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def db(store_url: str) -> Iterator[Database]:
    database = connect(store_url)
    yield database
    database.close()


@pytest.fixture
def store(db: Database) -> SqlWebhookStore:
    return SqlWebhookStore(db)


def _due_event(tenant: str = "t1", serial: str = "P-1") -> DueStateChangedEvent:
    old = DueState(DueStatus.OK, DueBasis.TIME, T0 + timedelta(days=40), "ok")
    new = DueState(DueStatus.DUE_SOON, DueBasis.TIME, T0 + timedelta(days=12), "due in 12 days")
    change = due_state_change(old, new, T0)
    assert change is not None
    return DueStateChangedEvent(tenant, serial, change, T0)


def test_a_domain_event_becomes_its_webhook() -> None:
    event = _due_event()
    kind, key, body = webhook_for(event)
    assert (kind, key) == (WebhookEvent.DUE_STATE_CHANGED, event_id(event))
    expected = due_state_changed("P-1", event.change)
    assert body == webhook_body(kind, key, T0, "t1", expected)


def test_events_are_signed_retried_and_logged(
    store: SqlWebhookStore, db: Database, receiver: tuple[type[Receiver], str]
) -> None:
    handler, endpoint = receiver
    store.add_endpoint("t1", endpoint, SECRET, "device.due_state_changed")
    store.add_endpoint("t1", endpoint + "/other", SECRET, "calibration.completed")
    store.add_endpoint("t2", endpoint, SECRET, "*")
    event_id = str(uuid.uuid4())
    body = webhook_body(WebhookEvent.DUE_STATE_CHANGED, event_id, T0, "t1", {"x": 1})
    assert store.publish("t1", "device.due_state_changed", event_id, body, T0) == 1
    assert store.publish("t1", "device.due_state_changed", event_id, body, T0) == 0
    handler.answers = [503]
    clock = {"now": T0}

    def now() -> datetime:
        return clock["now"]

    first = run_webhook_pass(store, worker="w1", now=now)
    assert (first.claimed, first.retried) == (1, 1)
    assert run_webhook_pass(store, worker="w1", now=now).claimed == 0  # waits for backoff
    clock["now"] = T0 + timedelta(minutes=2)
    second = run_webhook_pass(store, worker="w1", now=now)
    assert second.sent == 1
    (headers, received) = handler.received[0]
    assert received == body
    assert headers["x-labcal-event"] == "device.due_state_changed"
    verify_webhook(received, headers["x-labcal-signature"], SECRET.encode(), int(now().timestamp()))
    log = db.query("SELECT attempt, http_status, outcome FROM webhook_attempt ORDER BY id")
    assert log == [(1, 503, "retry"), (2, 200, "sent")]
    (sent_at,) = db.one("SELECT sent_at FROM webhook_delivery") or (None,)
    assert Database.read_at(sent_at) == clock["now"]


def test_client_error_is_not_retried(
    store: SqlWebhookStore, db: Database, receiver: tuple[type[Receiver], str]
) -> None:
    handler, endpoint = receiver
    store.add_endpoint("t1", endpoint, SECRET)
    handler.answers = [404]
    body = webhook_body(WebhookEvent.MAINTENANCE_FORECAST, "e9", T0, "t1", {})
    store.publish("t1", "maintenance.forecast", "e9", body, T0)
    result = run_webhook_pass(store, worker="w1", now=lambda: T0)
    assert result.failed == 1
    assert db.query("SELECT status, last_error FROM webhook_delivery") == [("failed", "HTTP 404")]


def test_a_crashed_workers_delivery_is_taken_over_after_the_lease(
    store: SqlWebhookStore, db: Database
) -> None:
    endpoint = store.add_endpoint("t1", "http://127.0.0.1:9/hook", SECRET)
    store.publish("t1", "maintenance.forecast", "e1", b"{}", T0)
    lease = timedelta(minutes=10)
    (held,) = store.claim("w1", T0, 10, lease)
    assert (held.endpoint_id, held.secret, held.body, held.attempt) == (endpoint, SECRET, b"{}", 1)
    assert store.claim("w2", T0 + timedelta(minutes=5), 10, lease) == []
    (taken,) = store.claim("w2", T0 + timedelta(minutes=11), 10, lease)
    assert (taken.id, taken.attempt) == (held.id, 2)
    store.finish(held, "w1", T0, http_status=200, error="", retry_at=None)  # too late: ignored
    assert db.query("SELECT count(*) FROM webhook_attempt") == [(0,)]


def test_the_outbox_queues_an_event_in_the_callers_transaction_once(
    store: SqlWebhookStore, db: Database
) -> None:
    store.add_endpoint("t1", "http://a.test/hook", SECRET, "device.due_state_changed")
    store.add_endpoint("t1", "http://b.test/hook", SECRET, "*")
    store.add_endpoint("t1", "http://c.test/hook", SECRET, "calibration.completed")
    store.add_endpoint("t2", "http://d.test/hook", SECRET, "*")
    outbox: EventPublisher = WebhookOutbox(db)
    event = _due_event()

    def change_that_fails() -> None:
        with db.transaction():
            outbox.publish(event)
            raise RuntimeError("the change that caused the event is rolled back")

    with pytest.raises(RuntimeError):
        change_that_fails()
    assert db.query("SELECT count(*) FROM webhook_delivery") == [(0,)]  # nor its event
    with db.transaction():
        outbox.publish(event)
    outbox.publish(event)  # published again: recognised by its id
    rows = db.query(
        "SELECT e.url, d.event_id, d.event_type FROM webhook_delivery d"
        " JOIN webhook_endpoint e ON e.id = d.endpoint_id ORDER BY e.url"
    )
    assert rows == [
        ("http://a.test/hook", event_id(event), "device.due_state_changed"),
        ("http://b.test/hook", event_id(event), "device.due_state_changed"),
    ]
    (body,) = db.one("SELECT body FROM webhook_delivery LIMIT 1") or (None,)
    assert bytes(body) == webhook_for(event)[2]


LIMITED = "Within limits, conformity not stated (finding)"


@pytest.mark.parametrize(
    ("humidity", "bias", "verdict", "label", "passed"),
    [
        (55.0, 0.0, "conforming", "Conforming", True),
        (
            45.0,
            0.0,
            "conforming_with_finding",
            "Within limits, conformity not stated (finding)",
            False,
        ),
        (55.0, 1.5, "not_conforming", "Not conforming", False),
    ],
)
def test_calibration_completed_carries_the_records_one_verdict(
    humidity: float, bias: float, verdict: str, label: str, passed: bool
) -> None:
    """``passed`` is true only beside "conforming": no pass beside "conformity not stated"."""
    import json

    from labcal_cloud.engine.events import CalibrationRecorded
    from labcal_cloud.engine.records import record_from_run
    from labcal_shared.contracts import EnvironmentSample

    from .runs import make_run

    run = make_run(T0, bias_ul=bias)
    env = EnvironmentSample(air_temp_c=20.0, water_temp_c=20.0, pressure_kpa=101.3,
                            humidity_pct=humidity)  # fmt: skip
    run = run.model_copy(update={"environment": [env, env]})
    record = record_from_run(
        run, record_id=uuid.uuid4(), recorded_at=T0, balance_valid_until=None, balance_known=False
    )
    kind, _, body = webhook_for(CalibrationRecorded("t1", record, T0))
    data = json.loads(body)["data"]
    assert kind is WebhookEvent.CALIBRATION_COMPLETED
    assert (data["verdict"], data["verdict_label"], data["passed"]) == (verdict, label, passed)
    assert data["decision_rule"] == "simple_acceptance"
    assert data["tolerance_table"] == "ISO 8655-2:2002 (built in)"
    assert bool(data["verdict_reasons"]) is (verdict != "conforming")
