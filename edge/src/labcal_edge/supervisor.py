"""Hot-plug supervision of one serial device.

A device that fails (unplugged, I/O error, no answer) is marked unavailable, its port closed, and
reopened with capped, jittered backoff (:func:`~labcal_edge.backoff.backoff_delay`). The first
failure of an outage is logged as a warning, retries only at debug level, and the return is
logged once, so a device that is away for hours does not flood the log.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from labcal_edge.backoff import Backoff, backoff_delay
from labcal_edge.errors import EdgeError
from labcal_shared.errors import ProtocolError

__all__ = ["DEVICE_ERRORS", "Supervised"]

log = logging.getLogger("labcal_edge.devices")

T = TypeVar("T")

#: What a device may raise that means "this device, not the agent, has a problem".
DEVICE_ERRORS = (EdgeError, ProtocolError, OSError)


class Supervised(Generic[T]):
    def __init__(
        self,
        name: str,
        port: str,
        connect: Callable[[], T],
        close: Callable[[], None],
        *,
        backoff: Backoff | None = None,
        rand: Callable[[], float] = random.random,
        now: Callable[[], float] = time.monotonic,
        on_change: Callable[[Supervised[T]], None] | None = None,
    ) -> None:
        self.name = name
        self.port = port
        self._connect = connect
        self._close = close
        self._backoff = backoff or Backoff(base=0.5, cap=30.0, jitter=0.5)
        self._rand = rand
        self._now = now
        self._on_change = on_change
        self.available = False
        self.identity: T | None = None
        self.failures = 0
        self._attempt = 0
        self._next_at = 0.0
        self._outage_logged = False
        self._missed = 0

    def ensure(self) -> bool:
        """True if the device is usable; otherwise try to (re)open it when the backoff allows."""
        if self.available:
            return True
        if self._now() < self._next_at:
            return False
        try:
            self.identity = self._connect()
        except DEVICE_ERRORS as exc:
            self._close()
            self._schedule(exc)
            return False
        self.available = True
        self._attempt = 0
        log.info("%s: connected on %s (%s)", self.name, self.port, self.identity)
        self._outage_logged = False
        if self._on_change is not None:
            self._on_change(self)
        return True

    def missed(self, exc: BaseException, limit: int = 5) -> None:
        """An answer was missing or garbled; ``limit`` misses in a row count as a failure."""
        self._missed += 1
        log.debug("%s: %s (%d in a row)", self.name, exc, self._missed)
        if self._missed >= limit:
            self.fail(exc)

    def answered(self) -> None:
        self._missed = 0

    def fail(self, exc: BaseException) -> None:
        """The device failed while in use: mark it unavailable and schedule a reopen."""
        self._close()
        was = self.available
        self.available = False
        self.failures += 1
        self._missed = 0
        self._attempt = 0
        self._schedule(exc)
        if was and self._on_change is not None:
            self._on_change(self)

    def _schedule(self, exc: BaseException) -> None:
        delay = backoff_delay(self._backoff, min(self._attempt, 64), self._rand())
        self._attempt += 1
        self._next_at = self._now() + delay
        if not self._outage_logged:
            log.warning(
                "%s: unavailable on %s (%s); retrying with backoff", self.name, self.port, exc
            )
            self._outage_logged = True
        else:
            log.debug("%s: still unavailable (%s); next try in %.1f s", self.name, exc, delay)
