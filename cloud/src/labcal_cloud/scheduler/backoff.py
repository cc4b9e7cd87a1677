"""Retry policy of deliveries (pure)."""

from __future__ import annotations

from datetime import datetime, timedelta

__all__ = ["MAX_ATTEMPTS", "retry_at"]

MAX_ATTEMPTS = 6


def retry_at(
    attempt: int,
    now: datetime,
    *,
    base: timedelta = timedelta(minutes=1),
    cap: timedelta = timedelta(hours=6),
    max_attempts: int = MAX_ATTEMPTS,
) -> datetime | None:
    """When to try again after failed ``attempt`` (1-based): base·4^(attempt−1), capped;
    None once ``max_attempts`` are used up."""
    if attempt >= max_attempts:
        return None
    delay: timedelta = min(cap, base * (4 ** (attempt - 1)))
    return now + delay
