"""The real clock adapter (imperative shell)."""

from __future__ import annotations

import time

__all__ = ["MonotonicClock"]


class MonotonicClock:
    """Real time: :func:`time.monotonic`, optionally sped up by ``speed`` (accelerated time)."""

    def __init__(self, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError(f"clock speed must be positive, got {speed}")
        self._speed = speed
        self._origin = time.monotonic()

    def now(self) -> float:
        return (time.monotonic() - self._origin) * self._speed
