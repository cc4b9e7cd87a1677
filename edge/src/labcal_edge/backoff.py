"""Reconnect backoff as a pure function: capped exponential growth with full jitter.

Both the MQTT reconnect and the serial reopen loops use it. Randomness is passed in (a number in
``[0, 1)``), so the policy is deterministic under test.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Backoff", "backoff_delay"]


@dataclass(frozen=True, slots=True)
class Backoff:
    """Policy: ``base`` seconds for the first retry, doubling up to ``cap``; ``jitter`` in [0, 1]
    is the fraction of the delay that is randomised (1.0 = full jitter)."""

    base: float = 0.5
    cap: float = 30.0
    jitter: float = 0.5

    def __post_init__(self) -> None:
        if self.base <= 0 or self.cap < self.base:
            raise ValueError(f"need 0 < base <= cap, got base={self.base} cap={self.cap}")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError(f"jitter must be within [0, 1], got {self.jitter}")


def backoff_delay(policy: Backoff, attempt: int, rand: float) -> float:
    """Seconds to wait before retry number ``attempt`` (0 = first retry).

    The ceiling is ``min(cap, base * 2**attempt)``; the delay is that ceiling minus a random share
    ``jitter * rand`` of it, so it lies in ``[(1 - jitter) * ceiling, ceiling]`` and never exceeds
    ``cap``. ``rand`` must be within ``[0, 1)``.
    """
    if attempt < 0:
        raise ValueError(f"attempt must be >= 0, got {attempt}")
    if not 0.0 <= rand < 1.0:
        raise ValueError(f"rand must be within [0, 1), got {rand}")
    ceiling = policy.cap if attempt >= 64 else min(policy.cap, policy.base * 2.0**attempt)
    return ceiling * (1.0 - policy.jitter * rand)
