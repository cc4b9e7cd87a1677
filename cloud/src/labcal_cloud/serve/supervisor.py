"""Child processes of ``serve`` (and ``demo up``): start each in its own session (so Ctrl-C
reaches only the supervisor, which then stops them in reverse order), tee its output to a log
file (appended to: a restarted child writes after its predecessor; a log over 64 MiB moves
to <name>.log.1 when its child starts again), wait until it is ready,
restart one that crashed (same command, same place in the stop order), and stop them all with
SIGTERM (then SIGKILL after a grace period).

Children also get ``PR_SET_PDEATHSIG`` = SIGTERM on Linux: if the supervisor itself is killed,
they are told to stop too.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

__all__ = ["Child", "ChildFailedError", "Supervisor"]

_PR_SET_PDEATHSIG = 1
_KEEP_LINES = 2000  # per child, in memory; its log file has them all


class ChildFailedError(RuntimeError):
    """A child exited before it was ready, or did not get ready in time."""


def _load_prctl() -> Callable[..., int] | None:
    try:
        prctl: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
        return prctl
    except (OSError, AttributeError):  # not Linux
        return None


_PRCTL = _load_prctl()  # resolved here: between fork and exec only the call itself runs


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)


@dataclass
class Child:
    name: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    argv: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    started_at: float = field(default_factory=time.monotonic)
    lines: list[str] = field(default_factory=list)  # the latest output lines (bounded)
    dropped: int = 0  # older lines no longer in ``lines`` (a role runs for months)
    changed: threading.Condition = field(default_factory=threading.Condition)
    _drained: bool = False  # the output is read to its end and the process has exited
    stopping: threading.Event = field(default_factory=threading.Event)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def wait_for_line(self, pattern: str, timeout: float) -> re.Match[str]:
        """The first output line matching ``pattern`` (seen before or after the call, among
        the lines still kept)."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        seen = 0
        with self.changed:
            while True:
                for line in self.lines[max(0, seen - self.dropped) :]:
                    found = regex.search(line)
                    if found:
                        return found
                seen = self.dropped + len(self.lines)
                if self.stopping.is_set():
                    raise ChildFailedError(f"{self.name}: stopped while waiting for it")
                if not self.alive() and self._drained:
                    raise ChildFailedError(
                        f"{self.name} exited with {self.proc.returncode} (log: {self.log_path})"
                    )
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ChildFailedError(
                        f"{self.name}: no line matching {pattern!r} within {timeout:.0f} s "
                        f"(log: {self.log_path})"
                    )
                self.changed.wait(min(left, 0.5))


class Supervisor:
    def __init__(
        self,
        logs: Path,
        env: Mapping[str, str],
        on_line: Callable[[Child, str], None],
        stopping: threading.Event | None = None,
        max_log_bytes: int = 64 * 1024 * 1024,
    ) -> None:
        self.stopping = stopping or threading.Event()  # set: no new child, waits give up
        self._logs = logs
        self._max_log_bytes = max_log_bytes  # a bigger log moves to <name>.log.1 at a (re)start
        self._env = dict(env)
        self._on_line = on_line
        self.children: list[Child] = []
        logs.mkdir(parents=True, exist_ok=True)

    def set_env(self, env: Mapping[str, str]) -> None:
        """The environment of the children started from now on."""
        self._env = dict(env)

    def start(
        self,
        name: str,
        argv: Sequence[str],
        cwd: Path | None = None,
        extra_env: Mapping[str, str] | None = None,
    ) -> Child:
        """Start ``argv`` with the supervisor's environment plus ``extra_env``."""
        env = {**self._env, **(extra_env or {})}
        child = self._spawn(name, tuple(argv), env, cwd)
        self.children.append(child)
        return child

    def restart(self, old: Child) -> Child:
        """Start ``old``'s command again (same environment, same log file); the new child takes
        its place in the stop order. Whatever is left of the old one's process group is killed."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(old.pid, signal.SIGKILL)
        child = self._spawn(old.name, old.argv, old.env, old.cwd)
        self.children[self.children.index(old)] = child
        return child

    def _spawn(
        self, name: str, argv: tuple[str, ...], env: dict[str, str], cwd: Path | None
    ) -> Child:
        if self.stopping.is_set():
            raise ChildFailedError(f"not starting {name}: stopping")
        log_path = self._logs / f"{name}.log"
        with contextlib.suppress(FileNotFoundError):
            if log_path.stat().st_size > self._max_log_bytes:
                log_path.replace(log_path.with_name(f"{name}.log.1"))  # the one before goes
        log_file = open(log_path, "ab")  # noqa: SIM115 - closed by the reader thread
        try:
            proc = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log_file,
                env=env,
                cwd=cwd,
                start_new_session=True,
                preexec_fn=_die_with_parent,  # only prctl(2) between fork and exec
            )
        except OSError:
            log_file.close()
            raise
        child = Child(name, proc, log_path, argv, env, cwd, stopping=self.stopping)
        threading.Thread(
            target=self._read, args=(child, proc.stdout, log_file), daemon=True
        ).start()
        return child

    def _read(self, child: Child, stream: IO[bytes] | None, log_file: IO[bytes]) -> None:
        assert stream is not None
        try:
            for raw in iter(stream.readline, b""):
                log_file.write(raw)
                log_file.flush()
                line = raw.decode("utf-8", "replace").rstrip("\n")
                with child.changed:
                    child.lines.append(line)
                    if len(child.lines) > _KEEP_LINES:
                        del child.lines[: _KEEP_LINES // 2]
                        child.dropped += _KEEP_LINES // 2
                    child.changed.notify_all()
                self._on_line(child, line)
        finally:
            child.proc.wait()
            with child.changed:
                child._drained = True
                child.changed.notify_all()
            stream.close()
            log_file.close()

    def wait_exit(self, child: Child, timeout: float) -> int:
        return child.proc.wait(timeout)

    def stop_all(
        self,
        grace_s: float = 10.0,
        say: Callable[[str], None] = print,
        order: Sequence[Child] | None = None,
    ) -> None:
        """SIGTERM to each child, in ``order`` (default: newest first), waiting for each; then
        SIGKILL to the process group of every child, so nothing is left behind."""
        self.stopping.set()
        for child in reversed(self.children) if order is None else order:
            if not child.alive():
                continue
            say(f"stopping {child.name} (pid {child.pid})")
            try:
                os.killpg(child.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            try:
                code = child.proc.wait(grace_s)
            except subprocess.TimeoutExpired:
                say(f"{child.name} did not stop in {grace_s:.0f} s: SIGKILL")
                continue
            if code != 0:
                say(f"{child.name} stopped with exit code {code} (log: {child.log_path})")
        for child in self.children:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.pid, signal.SIGKILL)  # the whole group: nothing left behind
            child.proc.wait()
