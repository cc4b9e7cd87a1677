"""Usage facts from a pipette's usage reports: recent cycle rate and first use after storage.

Pure functions over ``(time, cycles_total)`` samples, sorted or not. A counter that goes back
(rollover or replaced electronics) contributes no negative usage: the step is skipped.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import datetime, timedelta

from labcal_cloud.engine.due import DAY, EventFact, EventKind
from labcal_cloud.engine.errors import PolicyError

__all__ = ["UsageSample", "cycles_per_day", "storage_events"]

UsageSample = tuple[datetime, int]


def cycles_per_day(
    samples: Sequence[UsageSample], now: datetime, window_days: float = 30.0
) -> float:
    """Mean cycles per day over the last ``window_days`` (0 when fewer than two samples).

    The rate is the counted cycles over the span from the window's first sample to ``now``
    (so a pipette that stopped being used sees its rate fall).
    """
    if window_days <= 0:
        raise PolicyError(f"window_days must be positive, got {window_days}")
    start = now - timedelta(days=window_days)
    ordered = sorted(s for s in samples if start <= s[0] <= now)
    if len(ordered) < 2:
        return 0.0
    used = sum(max(0, b[1] - a[1]) for a, b in itertools.pairwise(ordered))
    span_days = (now - ordered[0][0]) / DAY
    return used / span_days if span_days > 0 else 0.0


def storage_events(
    samples: Sequence[UsageSample], long_storage_days: float
) -> tuple[EventFact, ...]:
    """A LONG_STORAGE event at each first use after ``long_storage_days`` without any cycle."""
    ordered = sorted(samples)
    events: list[EventFact] = []
    last_use: datetime | None = None
    previous: UsageSample | None = None
    for at, count in ordered:
        if previous is not None and count > previous[1]:
            if last_use is not None and (at - last_use) / DAY >= long_storage_days:
                idle = int((at - last_use) / DAY)
                events.append(EventFact(EventKind.LONG_STORAGE, at, f"unused for {idle} days"))
            last_use = at
        elif previous is None:
            last_use = at
        previous = (at, count)
    return tuple(events)
