"""The ports through which the pure simulator core gets time and randomness.

The physics never import ``time`` or ``random``: they take a :class:`Clock` (seconds, monotonic)
and a :class:`RandomSource`. The shell passes :class:`MonotonicClock` and a seeded
``random.Random``; tests pass :class:`ManualClock` and a seeded generator too, so every run is
reproducible.
"""

from __future__ import annotations

import threading
from typing import Protocol

__all__ = ["Clock", "ManualClock", "RandomSource"]


class Clock(Protocol):
    def now(self) -> float:
        """Seconds on a monotonic scale (the origin is arbitrary)."""
        ...


class RandomSource(Protocol):
    """What the physics need from a random generator (``random.Random`` satisfies it)."""

    def gauss(self, mu: float = 0.0, sigma: float = 1.0) -> float: ...

    def random(self) -> float: ...

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int: ...


class ManualClock:
    """A clock that moves only when told to (thread-safe; for tests and accelerated time)."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError(f"a clock cannot go back ({seconds} s)")
        with self._lock:
            self._now += seconds
            return self._now
