"""The serial-link port every driver talks through, and its pyserial adapter.

Devices are addressed by stable paths (``/dev/serial/by-id/...``) or pyserial URLs
(``socket://host:port``, ``loop://``). Any I/O failure closes the port and raises
:class:`~labcal_edge.errors.DeviceUnavailableError`, so the supervisor can mark the device
unavailable and reopen it with backoff (an fd held on a dead port would make the OS re-enumerate
the device under a new name).
"""

from __future__ import annotations

import contextlib
import termios
import time
from typing import Protocol

import serial

from labcal_edge.config import SerialDeviceConfig
from labcal_edge.errors import DeviceUnavailableError
from labcal_shared.protocols import LineSplitter

__all__ = ["PySerialLink", "SerialLink"]

# termios.error (e.g. tcflush on a pty whose peer vanished) is not an OSError; TypeError comes
# from pyserial's socket:// read on a socket closed underneath it.
_IO_ERRORS = (serial.SerialException, OSError, termios.error, TypeError)


class SerialLink(Protocol):
    name: str
    port: str

    @property
    def is_open(self) -> bool: ...

    def open(self) -> None: ...

    def close(self) -> None: ...

    def write(self, data: bytes) -> None: ...

    def read_line(self, timeout: float) -> bytes | None:
        """The next complete line (without terminator), or ``None`` after ``timeout`` s."""
        ...

    def discard_input(self) -> None:
        """Forget anything received but not yet read (before sending a command)."""
        ...

    @property
    def dropped_bytes(self) -> int:
        """Garbage bytes dropped because a 'line' grew beyond the limit."""
        ...


class PySerialLink:
    def __init__(self, config: SerialDeviceConfig) -> None:
        self.name = config.name
        self.port = config.port
        self._cfg = config
        self._serial: serial.Serial | None = None
        self._splitter = LineSplitter()
        self._lines: list[bytes] = []

    @property
    def is_open(self) -> bool:
        return self._serial is not None

    @property
    def dropped_bytes(self) -> int:
        return self._splitter.dropped_total

    def open(self) -> None:
        self.close()
        cfg = self._cfg
        try:
            port = serial.serial_for_url(cfg.port, do_not_open=True)
            port.baudrate = cfg.baudrate
            port.bytesize = cfg.bytesize
            port.parity = cfg.parity
            port.stopbits = cfg.stopbits
            port.xonxoff = cfg.xonxoff
            port.rtscts = cfg.rtscts
            port.timeout = 0.05
            port.write_timeout = cfg.timeout_s
            # one reader per port: a second process (e.g. `run` polling the balance while a
            # `gravimetric` run uses it) would steal replies; with a lock it gets a clear error
            port.exclusive = True
            port.open()
        except (*_IO_ERRORS, ValueError) as exc:
            raise DeviceUnavailableError(f"{self.name}: cannot open {cfg.port}: {exc}") from None
        self._serial = port
        self._splitter.reset()
        self._lines.clear()

    def close(self) -> None:
        port, self._serial = self._serial, None
        if port is not None:
            with contextlib.suppress(*_IO_ERRORS):
                port.close()

    def _port(self) -> serial.Serial:
        if self._serial is None:
            raise DeviceUnavailableError(f"{self.name}: port {self.port} is not open")
        return self._serial

    def _fail(self, what: str, exc: BaseException) -> DeviceUnavailableError:
        self.close()
        return DeviceUnavailableError(f"{self.name}: {what} on {self.port} failed: {exc}")

    def write(self, data: bytes) -> None:
        port = self._port()
        try:
            port.write(data)  # no flush(): tcdrain blocks forever on a pty whose peer vanished
        except _IO_ERRORS as exc:
            raise self._fail("write", exc) from None

    def read_line(self, timeout: float) -> bytes | None:
        """Bounded by ``timeout`` also while bytes keep coming without a line end (noise, a
        wrong baud rate): the deadline is checked after every read, not only on silence."""
        deadline = time.monotonic() + timeout
        while not self._lines:
            port = self._port()
            try:
                data = port.read(max(1, port.in_waiting))
            except _IO_ERRORS as exc:
                raise self._fail("read", exc) from None
            if data:
                self._lines.extend(self._splitter.feed(data).lines)
            if not self._lines and time.monotonic() >= deadline:
                return None
        return self._lines.pop(0)

    def discard_input(self) -> None:
        port = self._port()
        try:
            port.reset_input_buffer()
        except _IO_ERRORS as exc:
            raise self._fail("flush", exc) from None
        self._lines.clear()
        self._splitter.reset()
