"""A pseudo-terminal endpoint with an optional stable symlink (like /dev/serial/by-id).

The simulator holds the master side and keeps the slave open too, so the master never sees EIO
while no program has the port open. The slave is put in raw mode (no echo, no line editing).
Hot-plug: :meth:`PtyEndpoint.unplug` closes both sides and removes the symlink — a program that
had the port open gets an I/O error — and :meth:`PtyEndpoint.replug` creates a new pty and points
the same symlink at it. Linux ptys do not implement parity (protocols.md §6): open with
``parity='N'``.
"""

from __future__ import annotations

import contextlib
import errno
import os
import pty
import tty
from pathlib import Path

__all__ = ["PtyEndpoint"]


class PtyEndpoint:
    def __init__(self, link: str | Path | None = None) -> None:
        self._link = Path(link) if link is not None else None
        self._master: int | None = None
        self._slave: int | None = None
        self._slave_path = ""
        self.replug()

    @property
    def address(self) -> str:
        return str(self._link) if self._link is not None else self._slave_path

    @property
    def slave_path(self) -> str:
        return self._slave_path

    def fds(self) -> list[int]:
        return [] if self._master is None else [self._master]

    def read(self) -> bytes:
        if self._master is None:
            return b""
        chunks = []
        while True:
            try:
                chunk = os.read(self._master, 4096)
            except BlockingIOError:
                break
            except OSError as exc:
                if exc.errno == errno.EIO:
                    break
                raise
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)

    def write(self, data: bytes) -> None:
        if self._master is None or not data:
            return
        view = memoryview(data)
        while view:
            try:
                written = os.write(self._master, view)
            except (BlockingIOError, OSError):
                return  # nobody reads and the pty buffer is full: the bytes are lost
            view = view[written:]

    def unplug(self) -> None:
        for fd in (self._master, self._slave):
            if fd is not None:
                os.close(fd)
        self._master = self._slave = None
        if self._link is not None:
            with contextlib.suppress(FileNotFoundError):
                self._link.unlink()

    def replug(self) -> None:
        if self._master is not None:
            self.unplug()
        master, slave = pty.openpty()
        tty.setraw(slave)
        os.set_blocking(master, False)
        self._master, self._slave = master, slave
        self._slave_path = os.ttyname(slave)
        if self._link is not None:
            self._link.parent.mkdir(parents=True, exist_ok=True)
            tmp = self._link.with_name(self._link.name + ".tmp")
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            tmp.symlink_to(self._slave_path)
            os.replace(tmp, self._link)

    def close(self) -> None:
        self.unplug()
