"""Run a supervised body until SIGINT/SIGTERM, then stop every child (``serve`` and ``demo up``).

The first signal sets the stop event and raises :class:`StopRequestedError` in the main thread,
so a wait in progress (a readiness check, a seeding step) ends at once; further signals are
ignored while the children stop. Exit codes: 0 after a signal, 2 for bad input
(:class:`ServeInputError`, message on standard error), 1 when something failed to start.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType

from labcal_cloud.serve.options import ServeInputError
from labcal_cloud.serve.supervisor import ChildFailedError

__all__ = ["ServeStartError", "StopRequestedError", "run_supervised"]


class StopRequestedError(Exception):
    """SIGINT or SIGTERM arrived."""


class ServeStartError(RuntimeError):
    """A role or a step could not start (exit code 1)."""


def run_supervised(
    body: Callable[[], int],
    *,
    stop: threading.Event,
    stop_all: Callable[[], None],
    say: Callable[[str], None],
    name: str,
    stopping_text: str,
) -> int:
    received: list[str] = []

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        if not stop.is_set():
            received.append(signal.Signals(signum).name)
            stop.set()  # every wait checks it too (if a library swallows the raise)
            raise StopRequestedError(received[0])

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    code = 0
    try:
        code = body()
    except StopRequestedError:
        pass
    except ServeInputError as exc:
        print(f"{name}: {exc}", file=sys.stderr, flush=True)
        code = 2
    except (ChildFailedError, ServeStartError, OSError, ValueError) as exc:
        if not received:
            say(f"{name} failed: {exc}")
            code = 1
    finally:
        for s in previous:
            signal.signal(s, signal.SIG_IGN)
        try:
            if received:
                say(f"{received[0]}: {stopping_text}")
                code = 0
            stop.set()
            stop_all()
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)
    return code
