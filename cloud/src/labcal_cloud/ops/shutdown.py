"""Graceful shutdown for the cloud's loop processes: SIGTERM (and SIGINT) set an event that the
loop checks between passes, so the current batch is finished (and acknowledged) before exit 0."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

__all__ = ["stop_on_signals"]

log = logging.getLogger(__name__)


@contextmanager
def stop_on_signals(*signums: int) -> Iterator[threading.Event]:
    """An event set by SIGTERM/SIGINT (or ``signums``) while the block runs; the previous
    handlers come back afterwards. Use from the main thread."""
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: finishing the current pass, then stopping", signum)
        stop.set()

    wanted = signums or (signal.SIGTERM, signal.SIGINT)
    in_main = threading.current_thread() is threading.main_thread()  # else: signals not ours
    previous = {s: signal.signal(s, on_signal) for s in wanted} if in_main else {}
    try:
        yield stop
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
