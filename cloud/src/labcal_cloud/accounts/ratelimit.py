"""Failed-login rate limiting: a pure sliding window per key (e-mail and client address)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

__all__ = ["LoginRateLimiter"]


@dataclass
class LoginRateLimiter:
    """Allow at most ``max_failures`` failed logins per key within ``window_s`` seconds."""

    max_failures: int = 5
    window_s: float = 300.0
    _failures: dict[str, deque[float]] = field(default_factory=dict)

    def _prune(self, key: str, now: float) -> deque[float]:
        window = self._failures.setdefault(key, deque())
        while window and window[0] <= now - self.window_s:
            window.popleft()
        return window

    def retry_after(self, key: str, now: float) -> int:
        """Seconds until ``key`` may try again (0: allowed now)."""
        window = self._prune(key, now)
        if len(window) < self.max_failures:
            return 0
        return max(1, int(window[0] + self.window_s - now + 0.999))

    def record_failure(self, key: str, now: float) -> None:
        self._prune(key, now).append(now)

    def reset(self, key: str) -> None:
        self._failures.pop(key, None)
