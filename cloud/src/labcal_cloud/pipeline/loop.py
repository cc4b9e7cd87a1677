"""The pipeline loop (orchestration only; the stages are injected, so the order and the timing
rules are tested without a database).

One pass: new runs → records; records → certificates; then, when a record or certificate is
new, or ``due_every_s`` has passed since the last refresh (sooner when woken: usage arrived),
due states → planned reminders; forecasts after new records or every ``forecast_every_s``.
Between passes it waits on the database's wake-up (at most ``idle_s``). A failing pass (the
database is restarting…) is logged, counted and retried after a back-off; the loop never dies
of it. ``stop`` ends the loop after the current pass.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from labcal_cloud.pipeline.wake import Wake

__all__ = ["PassReport", "PipelineTiming", "Stages", "due_change_line", "run_pipeline"]

log = logging.getLogger(__name__)

_SLICE_S = 0.5


@dataclass(frozen=True, slots=True)
class Stages:
    records: Callable[[], int]  # runs evaluated into records (or rejected) this pass
    certify: Callable[[], Sequence[str]]  # one line per certificate issued
    due: Callable[[], int]  # due-state changes
    forecast: Callable[[], int]  # maintenance alerts raised
    plan: Callable[[], int]  # reminder steps newly planned
    due_changed: Callable[[], Sequence[str]] = tuple  # the last due pass's changes, by serial


@dataclass(frozen=True, slots=True)
class PipelineTiming:
    due_every_s: float = 30.0  # at most this long between due refreshes while woken
    idle_due_s: float = 60.0  # and while nothing happens (time alone changes due states)
    forecast_every_s: float = 600.0
    idle_s: float = 5.0  # longest wait for a wake-up
    backoff_s: tuple[float, ...] = (1.0, 2.0, 5.0, 10.0)


@dataclass
class PassReport:
    records: int = 0
    certificates: list[str] = field(default_factory=list)
    due_changes: int | None = None  # None: not refreshed this pass
    due_changed: list[str] = field(default_factory=list)  # "<serial> now <state>", when known
    alerts: int | None = None
    planned: int | None = None


@dataclass
class _Schedule:
    timing: PipelineTiming
    last_due: float = float("-inf")
    last_forecast: float = float("-inf")

    def due_now(self, now: float, woken: bool, changed: bool) -> bool:
        since = now - self.last_due
        return changed or since >= (self.timing.due_every_s if woken else self.timing.idle_due_s)

    def forecast_now(self, now: float, changed: bool) -> bool:
        return changed or now - self.last_forecast >= self.timing.forecast_every_s


def _one_pass(stages: Stages, schedule: _Schedule, now: float, woken: bool) -> PassReport:
    report = PassReport(records=stages.records())
    report.certificates = list(stages.certify())
    changed = bool(report.records or report.certificates)
    if schedule.due_now(now, woken, changed):
        schedule.last_due = now
        report.due_changes = stages.due()
        report.due_changed = list(stages.due_changed())
        if schedule.forecast_now(now, changed):
            schedule.last_forecast = now
            report.alerts = stages.forecast()
        report.planned = stages.plan()
    return report


SHOWN_CHANGES = 5


def due_change_line(count: int, changed: Sequence[str]) -> str:
    """``due state changed: LP1000-0101 now ok`` — the devices by serial, the first
    :data:`SHOWN_CHANGES` of a long list and how many more."""
    if not changed:
        return f"due state changed for {count} device(s)"
    head = ", ".join(changed[:SHOWN_CHANGES])
    more = count - min(len(changed), SHOWN_CHANGES)
    return f"due state changed: {head}" + (f" and {more} more" if more > 0 else "")


def _say_report(report: PassReport, say: Callable[[str], None]) -> None:
    for line in report.certificates:
        say(f"pipeline: {line}")
    if report.due_changes:
        say(f"pipeline: {due_change_line(report.due_changes, report.due_changed)}")
    if report.alerts:
        say(f"pipeline: {report.alerts} maintenance alert(s) raised")
    if report.planned:
        say(f"pipeline: {report.planned} reminder step(s) planned")


def run_pipeline(
    stages: Stages,
    wake: Wake,
    stop: threading.Event,
    say: Callable[[str], None],
    *,
    timing: PipelineTiming = PipelineTiming(),
    clock: Callable[[], float] = time.monotonic,
    once: bool = False,
    observe: Callable[[PassReport | None], None] = lambda _: None,
) -> int:
    """Run passes until ``stop`` is set (or one pass with ``once``); returns failed passes.
    ``observe`` gets each pass's report (None for a failed pass), e.g. for metrics."""
    schedule = _Schedule(timing)
    failures = 0
    streak = 0
    woken = False
    say("pipeline: ready")
    while not stop.is_set():
        try:
            report = _one_pass(stages, schedule, clock(), woken)
        except Exception as exc:  # the supervisor loop: log, back off, go on
            failures += 1
            delay = timing.backoff_s[min(streak, len(timing.backoff_s) - 1)]
            streak += 1
            log.exception("pipeline pass failed (retry in %.0f s)", delay)
            say(f"pipeline: pass failed ({type(exc).__name__}: {exc}); retry in {delay:.0f} s")
            observe(None)
            if once:
                break
            stop.wait(delay)
            continue
        streak = 0
        _say_report(report, say)
        observe(report)
        if once:
            break
        woken = _wait(wake, timing.idle_s, stop, clock)
    return failures


def _wait(wake: Wake, total_s: float, stop: threading.Event, clock: Callable[[], float]) -> bool:
    """Wait for a wake-up at most ``total_s``, in slices, so a stop request ends it within
    half a second (SIGTERM never waits for a whole idle period)."""
    deadline = clock() + total_s
    while not stop.is_set():
        left = deadline - clock()
        if left <= 0:
            return False
        if wake.wait(min(_SLICE_S, left)):
            return not stop.is_set()
    return False
