"""A TCP endpoint: one host at a time, opened with pyserial as ``socket://HOST:PORT``.

A new connection replaces the previous one (a serial line has one host). Hot-plug closes the
connection and the listener; :meth:`TcpEndpoint.replug` listens again on the same port.
"""

from __future__ import annotations

import contextlib
import socket

__all__ = ["TcpEndpoint"]

_SEND_TIMEOUT_S = 2.0


class TcpEndpoint:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._host = host
        self._port = port
        self._listener: socket.socket | None = None
        self._client: socket.socket | None = None
        self.replug()

    @property
    def address(self) -> str:
        return f"socket://{self._host}:{self._port}"

    @property
    def port(self) -> int:
        return self._port

    def fds(self) -> list[int]:
        socks = [s for s in (self._listener, self._client) if s is not None]
        return [s.fileno() for s in socks]

    def _accept(self) -> None:
        if self._listener is None:
            return
        try:
            conn, _ = self._listener.accept()
        except BlockingIOError:
            return
        conn.setblocking(False)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self._client is not None:
            self._client.close()
        self._client = conn

    def read(self) -> bytes:
        self._accept()
        if self._client is None:
            return b""
        chunks = []
        while True:
            try:
                chunk = self._client.recv(4096)
            except BlockingIOError:
                break
            except OSError:
                chunk = b""
            if not chunk:  # the host closed the connection
                self._client.close()
                self._client = None
                break
            chunks.append(chunk)
        return b"".join(chunks)

    def write(self, data: bytes) -> None:
        if self._client is None or not data:
            return
        try:
            self._client.settimeout(_SEND_TIMEOUT_S)  # a host that stops reading is dropped
            self._client.sendall(data)
            self._client.setblocking(False)
        except OSError:
            self._client.close()
            self._client = None

    def unplug(self) -> None:
        for sock in (self._client, self._listener):
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.close()
        self._client = self._listener = None

    def replug(self) -> None:
        self.unplug()
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((self._host, self._port))
            listener.listen(1)
            listener.setblocking(False)
        except OSError:
            listener.close()
            raise
        self._port = listener.getsockname()[1]
        self._listener = listener

    def close(self) -> None:
        self.unplug()
