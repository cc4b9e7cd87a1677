"""Retry delays as a pure function: capped exponential backoff with "full jitter".

``jitter`` is a number in [0, 1) passed in by the caller (the shell draws it), so the schedule is
deterministic under test.
"""

from __future__ import annotations

__all__ = ["backoff_delay"]


def backoff_delay(
    attempt: int,
    *,
    base_s: float = 0.2,
    cap_s: float = 10.0,
    jitter: float = 1.0,
) -> float:
    """Delay before retry number ``attempt`` (1 = first retry): ``jitter × min(cap, base·2^(n-1))``.

    With ``jitter=1.0`` this is the plain capped exponential ceiling. The delay never exceeds
    ``cap_s`` and never goes below ``base_s / 10`` so a retry loop cannot spin.
    """
    if attempt < 1:
        raise ValueError(f"attempt must be >= 1, got {attempt}")
    if not 0.0 <= jitter <= 1.0:
        raise ValueError(f"jitter must be in [0, 1], got {jitter}")
    if base_s <= 0 or cap_s < base_s:
        raise ValueError("need 0 < base_s <= cap_s")
    ceiling = min(cap_s, base_s * 2.0 ** min(attempt - 1, 62))
    return max(base_s / 10.0, ceiling * jitter)
