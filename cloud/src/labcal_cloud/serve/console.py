"""What ``serve`` prints: one timestamped line per step, and the roles' own change lines.

A role announces changes on its standard output as ``<role>: …`` lines (the pipeline's
``pipeline: certificate LC-… signed for Acme P1000 LP1000-0101``); the console passes them
through, except the role's ready line (``serve`` prints its own) and a line repeating the one
before it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["Console", "LineFilter"]


class Console:
    """``say(text)``: ``[  12.3s] text`` on standard output, one writer at a time."""

    def __init__(self, write: Callable[[str], None] | None = None) -> None:
        self._t0 = time.monotonic()
        self._lock = threading.Lock()
        self._write = write or (lambda line: print(line, flush=True))

    def __call__(self, text: str) -> None:
        with self._lock:
            self._write(f"[{time.monotonic() - self._t0:6.1f}s] {text}")

    def elapsed(self) -> float:
        return time.monotonic() - self._t0


class LineFilter:
    """Which output lines of the roles reach the console (pure, apart from its memory)."""

    def __init__(self, roles: tuple[str, ...]) -> None:
        self._prefixes = {role: f"{role}: " for role in roles}
        self._last: dict[str, str] = {}
        self._lock = threading.Lock()

    def shown(self, role: str, line: str) -> bool:
        prefix = self._prefixes.get(role)
        if prefix is None or not line.startswith(prefix):
            return False
        if line.startswith(f"{prefix}ready"):
            return False
        with self._lock:
            if self._last.get(role) == line:
                return False
            self._last[role] = line
        return True
