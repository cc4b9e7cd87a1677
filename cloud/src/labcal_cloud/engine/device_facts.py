"""Assemble a device's :class:`DeviceFacts` from its records, usage samples and events."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from labcal_cloud.engine.due import DeviceFacts, DuePolicy, EventFact, EventKind
from labcal_cloud.engine.records import CalibrationRecord, current_records, wear_ratio
from labcal_cloud.engine.usage import UsageSample, cycles_per_day, storage_events
from labcal_shared.iso8655.verdict import Verdict, verdict_label

__all__ = ["device_facts", "quick_check_events"]


def quick_check_events(records: Iterable[CalibrationRecord]) -> tuple[EventFact, ...]:
    """A FAILED_QUICK_CHECK event for every current quick-check record that failed."""
    return tuple(
        EventFact(
            EventKind.FAILED_QUICK_CHECK,
            r.ended_at,
            f"worst error {wear_ratio(r):.0%} of MPE",
        )
        for r in current_records(records)
        if r.kind == "quick_check" and not r.passed
    )


def device_facts(
    *,
    registered_at: datetime,
    records: Iterable[CalibrationRecord],
    usage: Sequence[UsageSample],
    drops: Iterable[datetime],
    policy: DuePolicy,
    now: datetime,
    rate_window_days: float = 30.0,
    imported_calibration_at: datetime | None = None,
    imported_cycles: int = 0,
) -> DeviceFacts:
    """Facts at ``now``: last calibration and its verdict (the latest current calibration
    record; as left wins over as found of the same run), cycles since then, recent rate and
    the triggering events.

    Only a record of kind ``calibration`` is a calibration (a quick check never resets the due
    date). Without one, ``imported_calibration_at`` (the registry's history: imported or seeded)
    is taken as the last calibration, passed; without usage reports, ``imported_cycles`` (the
    registry's cycles since that calibration) stands for the cycles counted since.

    Only a *conforming* calibration counts as passed: a not conforming one blocks the device,
    one whose verdict is "conformity not stated" or "not evaluated" blocks it for review."""
    live = current_records(records)
    calibrations = [r for r in live if r.kind == "calibration"]
    last = calibrations[-1] if calibrations else None
    last_at = imported_calibration_at if last is None else last.ended_at
    if not usage and imported_cycles > 0:
        usage = ((now, imported_cycles),)
    before = sorted((t, c) for t, c in usage if last_at is not None and t <= last_at)
    after = sorted((t, c) for t, c in usage if t <= now)
    baseline = before[-1][1] if before else 0
    current = after[-1][1] if after else 0
    since = max(0, current - baseline) if last_at is not None else current
    events = (
        *quick_check_events(live),
        *(EventFact(EventKind.DROP, at) for at in drops),
        *storage_events(usage, policy.long_storage_days),
    )
    issue = ""
    if last is not None and not last.conforming:
        issue = verdict_label(last.verdict).lower()
        if last.verdict_reasons:
            issue += f": {last.verdict_reasons[0]}"
    return DeviceFacts(
        registered_at=registered_at,
        last_calibration_at=last_at,
        last_calibration_passed=True if last is None else last.conforming,
        last_calibration_review=last is not None
        and last.verdict in (Verdict.CONFORMING_WITH_FINDING, Verdict.NOT_EVALUATED),
        last_calibration_issue=issue,
        cycles_since_calibration=since,
        cycles_per_day=cycles_per_day(usage, now, rate_window_days),
        events=events,
    )
