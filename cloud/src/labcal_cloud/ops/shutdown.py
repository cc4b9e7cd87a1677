"""Graceful shutdown for the cloud's loop processes: SIGTERM (and SIGINT) ask the loop to stop;
it checks between passes, so the current batch is finished (and acknowledged) before exit 0."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

__all__ = ["run_off_main_thread", "stop_on_signals"]

log = logging.getLogger(__name__)


@contextmanager
def stop_on_signals(*signums: int) -> Iterator[threading.Event]:
    """An event set by SIGTERM/SIGINT (or ``signums``) while the block runs; the previous
    handlers come back afterwards. Use from the main thread.

    The handler does not call ``stop.set()`` itself: it runs in the main thread between two
    bytecodes, possibly while that thread holds the event's (non-reentrant) lock inside
    ``stop.wait()``, and ``set`` would then wait for that lock forever. A short thread sets it.
    """
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: finishing the current pass, then stopping", signum)
        if not stop.is_set():  # reads the flag without the lock
            threading.Thread(target=stop.set, name="stop-on-signal", daemon=True).start()

    wanted = signums or (signal.SIGTERM, signal.SIGINT)
    in_main = threading.current_thread() is threading.main_thread()  # else: signals not ours
    previous = {s: signal.signal(s, on_signal) for s in wanted} if in_main else {}
    try:
        yield stop
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def run_off_main_thread(
    run: Callable[[], None], stop: Callable[[], None], *signums: int, name: str = "loop"
) -> None:
    """Run ``run`` in its own thread until it returns; SIGTERM/SIGINT (or ``signums``) make the
    main thread call ``stop``. An exception from ``run`` is raised here.

    The thread (and every thread it starts) blocks those signals, so none of its waits is ever
    interrupted by one: CPython 3.11's ``queue.SimpleQueue.get(timeout=...)``, interrupted by a
    signal close to its deadline, computes a negative remaining time and then waits forever. An
    idle ingest worker, polling its queue in the main thread, hung on SIGTERM that way. The main
    thread only joins the thread with a timeout (a wait that handles signals correctly) and runs
    the handlers. Called off the main thread, where no handler can be installed, ``run`` runs.
    """
    if threading.current_thread() is not threading.main_thread():
        run()
        return
    wanted = signums or (signal.SIGTERM, signal.SIGINT)
    failed: list[BaseException] = []

    def target() -> None:
        signal.pthread_sigmask(signal.SIG_BLOCK, wanted)
        try:
            run()
        except BaseException as exc:  # handed to the main thread
            failed.append(exc)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: finishing the current batch, then stopping", signum)
        stop()

    thread = threading.Thread(target=target, name=name)
    previous = {s: signal.signal(s, on_signal) for s in wanted}
    try:
        thread.start()
        while thread.is_alive():
            thread.join(0.5)  # handlers run here, between (or within) these waits
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    if failed:
        raise failed[0]
