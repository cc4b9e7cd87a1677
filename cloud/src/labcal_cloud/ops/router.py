"""``/healthz``, ``/readyz`` and ``/metrics`` for the API app.

Include :data:`router` in the app (``create_app(settings, extra_routers=[router])``) and call
:func:`install` once on the app: it counts HTTP responses by status class (5xx are errors) and
gives the routes the database to probe (``app.state.services.db`` of the portal, or ``ops_db``).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from labcal_cloud.db.gateway import Database
from labcal_cloud.ops.collect import StoredFigures, read_applied_migrations, read_figures
from labcal_cloud.ops.prometheus import Family, Sample, render
from labcal_cloud.ops.readiness import judge_readiness
from labcal_cloud.storage.migration_plan import Backend, discover

__all__ = ["HttpCounters", "install", "metric_families", "router"]

router = APIRouter(tags=["operations"])
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class HttpCounters:
    """Responses of this process by status class, and failed scrapes (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def add(self, key: str) -> None:
        with self._lock:
            self._counts[key] += 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)


def install(app: FastAPI, db: Database | None = None) -> HttpCounters:
    counters = HttpCounters()
    app.state.ops_counters = counters
    if db is not None:
        app.state.ops_db = db

    @app.middleware("http")
    async def count_responses(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        try:
            response = await call_next(request)
        except Exception:
            counters.add("5xx")
            raise
        counters.add(f"{response.status_code // 100}xx")
        return response

    return counters


def _db(request: Request) -> Database:
    db = getattr(request.app.state, "ops_db", None)
    if db is None:
        db = request.app.state.services.db
    assert isinstance(db, Database)
    return db


def _counters(request: Request) -> HttpCounters:
    found = getattr(request.app.state, "ops_counters", None)
    return found if isinstance(found, HttpCounters) else HttpCounters()


def _backend(db: Database) -> Backend:
    return "postgres" if db.dialect == "postgresql" else "sqlite"


@router.get("/healthz", include_in_schema=False)
def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get("/readyz", include_in_schema=False)
def readyz(request: Request) -> JSONResponse:
    """Readiness: storage reachable and every migration applied (else 503)."""
    db = _db(request)
    expected = [m.version for m in discover(_backend(db))]
    try:
        applied: set[int] | None = read_applied_migrations(db)
        error = None
    except Exception as exc:  # any driver error means "not ready"; the reason is reported
        applied, error = None, f"{type(exc).__name__}: {exc}"
    verdict = judge_readiness(expected, applied, error)
    return JSONResponse(verdict.as_json(), status_code=200 if verdict.ready else 503)


def _counter(name: str, help_: str, values: dict[Any, int], label: str) -> Family:
    samples = tuple(Sample(float(n), {label: str(k)}) for k, n in sorted(values.items()))
    return Family(name, help_, "counter", samples)


def metric_families(figures: StoredFigures, http: dict[str, int], scrape_ok: bool) -> list[Family]:
    """Every family /metrics exposes (pure)."""
    errors = {
        "quarantine_storage": figures.quarantine_by_reason.get("storage", 0),
        "reminder_failed": figures.reminder_failures_by_outcome.get("failed", 0),
        "http_5xx": http.get("5xx", 0),
        "scrape": http.get("scrape_error", 0),
    }
    depth = tuple(
        Sample(float(n), {"tenant": t, "station": s})
        for (t, s), n in sorted(figures.outbox_depth.items())
    )
    return [
        _counter(
            "labcal_ingest_messages_stored_total",
            "Messages stored by ingest, by kind (ingest rate: rate() of this).",
            figures.messages_by_kind,
            "kind",
        ),
        _counter(
            "labcal_ingest_quarantined_total",
            "Messages put in quarantine, by reason code.",
            figures.quarantine_by_reason,
            "reason",
        ),
        Family(
            "labcal_station_outbox_depth",
            "Edge outbox depth each station reported in its latest status message.",
            "gauge",
            depth,
        ),
        _counter(
            "labcal_reminders_sent_total",
            "Reminder steps delivered, by channel.",
            figures.reminders_sent_by_channel,
            "channel",
        ),
        _counter(
            "labcal_reminder_attempts_failed_total",
            "Reminder delivery attempts that did not deliver, by outcome (retry, failed).",
            figures.reminder_failures_by_outcome,
            "outcome",
        ),
        _counter("labcal_errors_total", "Errors by source.", errors, "source"),
        _counter(
            "labcal_http_responses_total",
            "HTTP responses of this API process, by status class.",
            {k: v for k, v in http.items() if k.endswith("xx")},
            "code",
        ),
        Family(
            "labcal_metrics_scrape_ok",
            "1 when this scrape could read the database.",
            "gauge",
            (Sample(1.0 if scrape_ok else 0.0),),
        ),
    ]


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> PlainTextResponse:
    counters = _counters(request)
    try:
        figures, ok = read_figures(_db(request)), True
    except Exception:  # tables missing or database down: still answer, flag it
        counters.add("scrape_error")
        figures, ok = StoredFigures(), False
    text = render(metric_families(figures, counters.snapshot(), ok))
    return PlainTextResponse(text, media_type=CONTENT_TYPE)
