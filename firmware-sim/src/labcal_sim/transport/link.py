"""An in-process link (a socket pair) for unit tests: the test holds :attr:`InProcessLink.host`."""

from __future__ import annotations

import contextlib
import socket

__all__ = ["InProcessLink"]


class InProcessLink:
    def __init__(self) -> None:
        self._device: socket.socket | None = None
        self.host: socket.socket | None = None
        self.replug()

    @property
    def address(self) -> str:
        return "inprocess://link"

    def fds(self) -> list[int]:
        return [] if self._device is None else [self._device.fileno()]

    def read(self) -> bytes:
        if self._device is None:
            return b""
        chunks = []
        while True:
            try:
                chunk = self._device.recv(4096)
            except BlockingIOError:
                break
            except OSError:
                break
            if not chunk:  # the test closed its end
                self._device.close()
                self._device = None
                break
            chunks.append(chunk)
        return b"".join(chunks)

    def write(self, data: bytes) -> None:
        if self._device is not None and data:
            with contextlib.suppress(OSError):
                self._device.sendall(data)

    def unplug(self) -> None:
        for sock in (self._device, self.host):
            if sock is not None:
                sock.close()
        self._device = self.host = None

    def replug(self) -> None:
        self.unplug()
        self._device, self.host = socket.socketpair()
        self._device.setblocking(False)

    def close(self) -> None:
        self.unplug()
