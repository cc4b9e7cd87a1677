"""Webhooks: signed bodies, fan-out to endpoints, retries with backoff, delivery log —
against real PostgreSQL and a real HTTP receiver."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import psycopg
import pytest

from labcal_cloud.engine.due import DueBasis, DueState, DueStatus, due_state_change
from labcal_cloud.notify.webhooks import (
    WebhookEvent,
    WebhookSignatureError,
    due_state_changed,
    sign_webhook,
    verify_webhook,
    webhook_body,
)
from labcal_cloud.scheduler.runner import run_webhook_pass
from labcal_cloud.scheduler.webhook_store import PostgresWebhookStore
from labcal_cloud.storage.factory import open_store

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
def hooks(fresh_database_url: str) -> Iterator[tuple[PostgresWebhookStore, str]]:
    store = open_store(fresh_database_url)
    store.migrate()
    store.close()
    s = PostgresWebhookStore(fresh_database_url)
    yield s, fresh_database_url
    s.close()


@pytest.mark.postgres
def test_events_are_signed_retried_and_logged(
    hooks: tuple[PostgresWebhookStore, str], receiver: tuple[type[Receiver], str]
) -> None:
    store, url = hooks
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
    with psycopg.connect(url) as conn:
        log = conn.execute(
            "SELECT attempt, http_status, outcome FROM webhook_attempt ORDER BY id"
        ).fetchall()
    assert log == [(1, 503, "retry"), (2, 200, "sent")]


@pytest.mark.postgres
def test_client_error_is_not_retried(
    hooks: tuple[PostgresWebhookStore, str], receiver: tuple[type[Receiver], str]
) -> None:
    store, url = hooks
    handler, endpoint = receiver
    store.add_endpoint("t1", endpoint, SECRET)
    handler.answers = [404]
    body = webhook_body(WebhookEvent.MAINTENANCE_FORECAST, "e9", T0, "t1", {})
    store.publish("t1", "maintenance.forecast", "e9", body, T0)
    result = run_webhook_pass(store, worker="w1", now=lambda: T0)
    assert result.failed == 1
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT status, last_error FROM webhook_delivery").fetchall() == [
            ("failed", "HTTP 404")
        ]
