"""The demo worker process: every pass projects what ingest stored into the portal, recomputes
due states, plans reminders and delivers the due ones (the scheduler's ``run_pass`` with the
inbox channel, on SQLite). SIGTERM/SIGINT: the current pass finishes, then the process exits 0.

It prints one line per notable change on stdout (``demo up`` shows them as progress)."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from types import FrameType

from labcal_cloud.demo.projector import Projector
from labcal_cloud.demo.reminders import recompute
from labcal_cloud.portal.services import Services
from labcal_cloud.scheduler.channels import InboxSender
from labcal_cloud.scheduler.reminder_store import SqlReminderStore
from labcal_cloud.scheduler.runner import run_pass

__all__ = ["run_worker"]

log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


def run_worker(
    services: Services,
    tenant: str,
    *,
    interval_s: float,
    due_every_s: float,
    traceability: str,
    say: Callable[[str], None],
    stop: threading.Event | None = None,
) -> int:
    stop = stop or threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: stopping after this pass", signum)
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
    projector = Projector(services, traceability)
    store = SqlReminderStore(services.db)
    senders = {"inbox": InboxSender(store, _now)}
    last_due = 0.0
    sent_total = 0
    say("worker: ready")
    while not stop.is_set():
        started = _now().timestamp()
        result = projector.project()
        if result.usage_devices:
            say(f"worker: usage projected for {result.usage_devices} device(s)")
        for device_id in result.certificates:
            store.cancel_subject(tenant, device_id, "calibrated")
            say(f"worker: certificate signed for device {device_id}")
        if result.certificates or started - last_due >= due_every_s:
            last_due = started
            due = recompute(services, tenant, _now())
            added = store.enqueue(due.steps)
            states = ", ".join(f"{k} {v}" for k, v in sorted(due.by_status.items()))
            if added or result.certificates:
                say(f"worker: due states {states}; {added} reminder step(s) planned")
        passed = run_pass(store, senders, worker="demo-worker", now=_now, batch=200)
        if passed.sent:
            sent_total += passed.sent
            say(f"worker: {passed.sent} reminder(s) delivered to the portal inbox")
        stop.wait(interval_s)
    say(f"worker: stopped ({sent_total} reminder(s) delivered)")
    return 0
