"""Clock quality as a pure decision: how far can this station's timestamps be trusted?

A year before 2024 means the clock was never set (no RTC, 1970 boot): timestamps are not facts
(:attr:`ClockQuality.INVALID`). A plausible clock that NTP does not confirm is ``UNSYNCED``; order
is kept by sequence numbers whatever the clock says.
"""

from __future__ import annotations

from datetime import datetime

from labcal_shared.contracts import ClockQuality

__all__ = ["MIN_PLAUSIBLE_YEAR", "classify_clock"]

MIN_PLAUSIBLE_YEAR = 2024


def classify_clock(now: datetime, ntp_synchronised: bool | None) -> ClockQuality:
    """Quality of ``now``; ``ntp_synchronised`` is ``None`` when it could not be determined."""
    if now.year < MIN_PLAUSIBLE_YEAR:
        return ClockQuality.INVALID
    if ntp_synchronised is True:
        return ClockQuality.SYNCED
    return ClockQuality.UNSYNCED
