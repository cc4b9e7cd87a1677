"""The scheduler process's own figures: reminder and webhook deliveries per outcome, passes."""

from __future__ import annotations

import threading
from typing import Protocol

from labcal_cloud.ops.prometheus import Family, Sample, render

__all__ = ["PassCounters"]


class PassOutcome(Protocol):
    @property
    def sent(self) -> int: ...

    @property
    def retried(self) -> int: ...

    @property
    def failed(self) -> int: ...


class PassCounters:
    """Thread-safe totals since the process started; ready after the first completed pass."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._passes = 0
        self._counts: dict[tuple[str, str], int] = {}

    def add(self, reminders: PassOutcome, webhooks: PassOutcome) -> None:
        with self._lock:
            self._passes += 1
            for kind, r in (("reminder", reminders), ("webhook", webhooks)):
                for outcome, n in (("sent", r.sent), ("retry", r.retried), ("failed", r.failed)):
                    key = (kind, outcome)
                    self._counts[key] = self._counts.get(key, 0) + n

    def ready(self) -> tuple[bool, str]:
        with self._lock:
            return self._passes > 0, f"{self._passes} pass(es) completed"

    def prometheus(self) -> str:
        with self._lock:
            counts, passes = dict(self._counts), self._passes
        samples = tuple(
            Sample(float(n), {"kind": k, "outcome": o}) for (k, o), n in sorted(counts.items())
        )
        errors = counts.get(("reminder", "failed"), 0) + counts.get(("webhook", "failed"), 0)
        return render(
            [
                Family(
                    "labcal_scheduler_deliveries_total",
                    "Deliveries by this scheduler process, by kind and outcome.",
                    "counter",
                    samples,
                ),
                Family(
                    "labcal_scheduler_passes_total",
                    "Completed scheduler passes.",
                    "counter",
                    (Sample(float(passes)),),
                ),
                Family(
                    "labcal_errors_total",
                    "Errors by source.",
                    "counter",
                    (Sample(float(errors), {"source": "scheduler_failed"}),),
                ),
            ]
        )
