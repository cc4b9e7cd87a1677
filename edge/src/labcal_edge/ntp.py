"""Adapters that tell whether the system clock is NTP-synchronised (the clock port's shell side).

``timedatectl show -p NTPSynchronized --value`` on systemd machines, else the kernel's
``adjtimex`` status (``STA_UNSYNC`` / ``TIME_ERROR``). Each returns ``None`` when it cannot tell.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import shutil
import subprocess
import time
from typing import Protocol

__all__ = [
    "AdjtimexProbe",
    "CachedProbe",
    "FixedProbe",
    "NtpProbe",
    "TimedatectlProbe",
    "make_probe",
]


class NtpProbe(Protocol):
    def synchronised(self) -> bool | None: ...


class FixedProbe:
    """Always answers the same (configuration ``ntp = "assume-synced"`` / ``"none"``, tests)."""

    def __init__(self, answer: bool | None) -> None:
        self._answer = answer

    def synchronised(self) -> bool | None:
        return self._answer


class TimedatectlProbe:
    def synchronised(self) -> bool | None:
        exe = shutil.which("timedatectl")
        if exe is None:
            return None
        try:
            out = subprocess.run(
                [exe, "show", "-p", "NTPSynchronized", "--value"],
                capture_output=True,
                text=True,
                timeout=5,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        value = out.stdout.strip().lower()
        if out.returncode != 0 or value not in ("yes", "no"):
            return None
        return value == "yes"


class _Timex(ctypes.Structure):
    # struct timex: modes (unsigned int) then longs; we only read `status` and the result.
    _fields_ = [
        ("modes", ctypes.c_uint),
        ("offset", ctypes.c_long),
        ("freq", ctypes.c_long),
        ("maxerror", ctypes.c_long),
        ("esterror", ctypes.c_long),
        ("status", ctypes.c_int),
        ("pad", ctypes.c_long * 40),
    ]


_STA_UNSYNC = 0x0040
_TIME_ERROR = 5


class AdjtimexProbe:
    def synchronised(self) -> bool | None:
        name = ctypes.util.find_library("c")
        if name is None:
            return None
        try:
            libc = ctypes.CDLL(name, use_errno=True)
            tx = _Timex()
            state = int(libc.adjtimex(ctypes.byref(tx)))
        except (OSError, AttributeError):
            return None
        if state < 0:
            return None
        return state != _TIME_ERROR and not (tx.status & _STA_UNSYNC)


class CachedProbe:
    """Ask ``inner`` at most once per ``ttl`` seconds (the answer changes rarely)."""

    def __init__(self, inner: NtpProbe, ttl: float = 60.0) -> None:
        self._inner = inner
        self._ttl = ttl
        self._at = -float("inf")
        self._value: bool | None = None

    def synchronised(self) -> bool | None:
        now = time.monotonic()
        if now - self._at >= self._ttl:
            self._value = self._inner.synchronised()
            self._at = now
        return self._value


class _FirstAnswer:
    def __init__(self, *probes: NtpProbe) -> None:
        self._probes = probes

    def synchronised(self) -> bool | None:
        for probe in self._probes:
            answer = probe.synchronised()
            if answer is not None:
                return answer
        return None


def make_probe(kind: str) -> NtpProbe:
    """``auto`` (timedatectl, then adjtimex), ``timedatectl``, ``adjtimex`` or ``none``."""
    if kind == "timedatectl":
        inner: NtpProbe = TimedatectlProbe()
    elif kind == "adjtimex":
        inner = AdjtimexProbe()
    elif kind == "none":
        return FixedProbe(None)
    else:
        inner = _FirstAnswer(TimedatectlProbe(), AdjtimexProbe())
    return CachedProbe(inner)
