"""CPU time of processes, read from /proc (Linux), for the benches' CPU-per-message figures.

A figure like "45,000 msg/s" says how fast; the CPU each process spent on a message says where
the two cores went, and why a ratio between two pipelines moves from one machine to another.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

__all__ = ["CpuWindow", "cpu_seconds", "pids_named"]

_HZ = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU of a live process (all its threads) and of the children it has reaped
    (a postmaster reaps its backends); None when the process is gone or not readable."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()  # the command name may hold spaces and parentheses
    utime, stime, cutime, cstime = (int(f) for f in fields[11:15])
    return (utime + stime + cutime + cstime) / _HZ


def pids_named(comm: str) -> list[int]:
    """Every process whose command name is ``comm`` (e.g. "postgres", "mosquitto")."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == comm:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


class CpuWindow:
    """CPU seconds spent by groups of processes between :meth:`start` and :meth:`stop`.

    ``groups`` maps a label to a function listing the group's pids; it is called at both ends,
    so a process started inside the window counts from zero. A process that ends inside the
    window without a sampled parent reaping it is not counted (its CPU is gone with it).
    """

    def __init__(self, groups: dict[str, Callable[[], Iterable[int]]]) -> None:
        self._groups = groups
        self._start: dict[str, dict[int, float]] = {}

    def _sample(self) -> dict[str, dict[int, float]]:
        out: dict[str, dict[int, float]] = {}
        for label, pids in self._groups.items():
            seen = {pid: cpu_seconds(pid) for pid in pids()}
            out[label] = {pid: s for pid, s in seen.items() if s is not None}
        return out

    def start(self) -> None:
        self._start = self._sample()

    def stop(self) -> dict[str, float]:
        end = self._sample()
        return {
            label: sum(s - self._start[label].get(pid, 0.0) for pid, s in end[label].items())
            for label in end
        }
