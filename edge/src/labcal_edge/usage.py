"""When to publish a smart pipette's counters: pure decision on successive readings.

* first reading, or any counter moved → ``CHANGE``;
* the lifetime counter went *down* → ``ROLLOVER`` (it wrapped at the device's maximum);
* the since-service counter went down while the lifetime counter did not → ``RESET`` (service);
* nothing moved for ``periodic_s`` → ``PERIODIC`` (heartbeat).
"""

from __future__ import annotations

from dataclasses import dataclass

from labcal_shared.contracts import UsageTrigger

__all__ = ["UsageState", "assess_usage"]


@dataclass(frozen=True, slots=True)
class UsageState:
    """The last counters reported for a pipette, and when (monotonic seconds)."""

    total: int
    since_service: int
    reported_at: float


def assess_usage(
    last: UsageState | None, total: int, since_service: int, now: float, periodic_s: float
) -> UsageTrigger | None:
    """The trigger for reporting these counters now, or ``None`` when there is nothing to say."""
    if last is None:
        return UsageTrigger.CHANGE
    if total < last.total:
        return UsageTrigger.ROLLOVER
    if since_service < last.since_service:
        return UsageTrigger.RESET
    if total != last.total or since_service != last.since_service:
        return UsageTrigger.CHANGE
    if now - last.reported_at >= periodic_s:
        return UsageTrigger.PERIODIC
    return None
