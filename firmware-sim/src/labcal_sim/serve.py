"""The serve loop: joins one device to one endpoint, with its fault switches (imperative shell).

One :class:`DeviceServer` per device, each in its own thread. Devices of a station share physics
(a pipette dispensing into a balance), so the station passes one lock to all its servers; every
call into a device happens under it. Time comes from the injected clock: with a
:class:`~labcal_sim.ports.ManualClock` nothing time-driven happens (settling, ``S`` timeouts,
``SIR`` stream, slow replies, reappearing after an unplug) until the test advances it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import threading
from dataclasses import dataclass

from labcal_sim.devices.base import Device
from labcal_sim.faults import FaultSwitches, shape
from labcal_sim.ports import Clock, RandomSource
from labcal_sim.transport.endpoint import Endpoint

__all__ = ["DeviceServer"]

_log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Delayed:
    due: float
    data: bytes


class DeviceServer:
    def __init__(
        self,
        device: Device,
        endpoint: Endpoint,
        clock: Clock,
        rng: RandomSource,
        *,
        faults: FaultSwitches | None = None,
        lock: threading.RLock | None = None,
        tick_s: float = 0.01,
    ) -> None:
        self.device = device
        self.endpoint = endpoint
        self.faults = faults or FaultSwitches()
        self._clock = clock
        self._rng = rng
        self._lock = lock or threading.RLock()
        self._tick = tick_s
        self._delayed: list[_Delayed] = []
        self._reappear_at: float | None = None
        self._stop = threading.Event()
        self._wake_r, self._wake_w = _pipe()
        self._thread: threading.Thread | None = None
        #: Unexpected errors caught by the supervisor loop (tests assert it stays empty).
        self.errors: list[str] = []

    @property
    def address(self) -> str:
        return self.endpoint.address

    @property
    def lock(self) -> threading.RLock:
        """Hold it to change the device's physics from another thread (tests, operator)."""
        return self._lock

    # -- control (thread-safe) ------------------------------------------------------------------
    def start(self) -> DeviceServer:
        self._thread = threading.Thread(
            target=self.run, name=f"sim-{self.device.kind}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._wake()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._lock:
            self.endpoint.close()
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)

    def set_faults(self, faults: FaultSwitches) -> None:
        with self._lock:
            self.faults = faults
            if faults.silent:
                self._delayed.clear()
        self._wake()

    def unplug(self, reappear_after_s: float | None = None) -> None:
        """Disconnect now; reappear at the same address after ``reappear_after_s`` (clock time)."""
        with self._lock:
            self.endpoint.unplug()
            self._delayed.clear()
            self._reappear_at = (
                None if reappear_after_s is None else self._clock.now() + reappear_after_s
            )
        self._wake()

    def replug(self) -> None:
        with self._lock:
            self.endpoint.replug()
            self._reappear_at = None
        self._wake()

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")

    # -- loop -----------------------------------------------------------------------------------
    def run(self) -> None:
        """Serve until :meth:`stop`. This is the supervisor loop: an unexpected error in a
        device is logged and recorded in :attr:`errors`, and serving goes on."""
        while not self._stop.is_set():
            with self._lock:
                fds = [*self.endpoint.fds(), self._wake_r]
            try:
                readable, _, _ = select.select(fds, [], [], self._tick)
            except (OSError, ValueError):  # an fd was closed by unplug() meanwhile: retry
                continue
            if self._wake_r in readable:
                with contextlib.suppress(OSError):
                    os.read(self._wake_r, 4096)
            try:
                self.step()
            except Exception as exc:  # supervisor: one device bug must not kill the port
                _log.exception("simulated %s failed", self.device.kind)
                self.errors.append(f"{type(exc).__name__}: {exc}")

    def step(self) -> None:
        """One round: read input, run the device, send what is due."""
        with self._lock:
            now = self._clock.now()
            if self._reappear_at is not None and now >= self._reappear_at:
                self.endpoint.replug()
                self._reappear_at = None
            data = self.endpoint.read()
            lines = self.device.receive(data, now) if data else []
            lines.extend(self.device.poll(now))
            out = shape(lines, self.faults, self._rng)
            if out:
                self._delayed.append(_Delayed(now + self.faults.delay_s, out))
            due = [d for d in self._delayed if d.due <= now]
            self._delayed = [d for d in self._delayed if d.due > now]
            if due:
                self.endpoint.write(b"".join(d.data for d in due))


def _pipe() -> tuple[int, int]:
    r, w = os.pipe()
    os.set_blocking(r, False)
    os.set_blocking(w, False)
    return r, w
