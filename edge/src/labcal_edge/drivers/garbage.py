"""Counting unparseable device lines: logged once, then summarised, never once per line."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

__all__ = ["GarbageLog"]

log = logging.getLogger("labcal_edge.drivers")


class GarbageLog:
    """The first garbage line of an episode is logged with a sample; later ones are counted and
    reported at most once per ``summary_s``. A good line ends the episode."""

    def __init__(
        self,
        device: str,
        summary_s: float = 60.0,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.device = device
        self.total = 0
        self._summary_s = summary_s
        self._now = now
        self._in_episode = False
        self._since_report = 0
        self._reported_at = 0.0

    def record(self, line: bytes, reason: str) -> None:
        self.total += 1
        now = self._now()
        if not self._in_episode:
            self._in_episode = True
            self._since_report = 0
            self._reported_at = now
            log.warning(
                "%s: skipping garbage %r (%s); further garbage is counted, not logged per line",
                self.device,
                line[:60],
                reason,
            )
            return
        self._since_report += 1
        if now - self._reported_at >= self._summary_s:
            log.warning(
                "%s: %d more garbage line(s) skipped (%d in total)",
                self.device,
                self._since_report,
                self.total,
            )
            self._since_report = 0
            self._reported_at = now

    def good(self) -> None:
        if self._in_episode and self._since_report:
            log.warning(
                "%s: %d more garbage line(s) skipped (%d in total); readings resumed",
                self.device,
                self._since_report,
                self.total,
            )
        self._in_episode = False
        self._since_report = 0
