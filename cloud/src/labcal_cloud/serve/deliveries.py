"""The scheduler's deliveries on the console: its ``/metrics`` (on the metrics port serve gave
it) read every couple of seconds, one line when the count of sent reminders grows."""

from __future__ import annotations

import time
from collections.abc import Callable

from labcal_cloud.serve.probes import http_text, metric_value

__all__ = ["DeliveryWatch"]

_EVERY_S = 2.0
_SENT = ("labcal_scheduler_deliveries_total", {"kind": "reminder", "outcome": "sent"})


class DeliveryWatch:
    def __init__(self, metrics_url: str, say: Callable[[str], None]) -> None:
        self._url = metrics_url
        self._say = say
        self._checked = 0.0
        self._pid = 0
        self._seen = 0.0  # the count the scheduler process ``_pid`` reported last
        self.delivered = 0  # since serve started, across scheduler restarts

    def check(self, pid: int, now: float | None = None) -> None:
        """Read the scheduler ``pid``'s count (at most every 2 s); say what is new."""
        now = time.monotonic() if now is None else now
        if now - self._checked < _EVERY_S:
            return
        self._checked = now
        value = metric_value(http_text(self._url, 1.0) or "", *_SENT)
        if value is None:
            return
        seen = self._seen if pid == self._pid else 0.0  # a restarted scheduler counts from 0
        if value > seen:
            new = int(value - seen)
            self.delivered += new
            self._say(f"scheduler: {new} reminder(s) delivered ({self.delivered} since the start)")
        self._pid, self._seen = pid, value
