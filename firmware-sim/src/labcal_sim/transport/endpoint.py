"""The port a served device talks through: a pty, a TCP listener or an in-process socket."""

from __future__ import annotations

from typing import Protocol

__all__ = ["Endpoint"]


class Endpoint(Protocol):
    @property
    def address(self) -> str:
        """What a serial program opens: a device path or a pyserial URL."""
        ...

    def fds(self) -> list[int]:
        """File descriptors to wait on for input (may be empty while unplugged)."""
        ...

    def read(self) -> bytes:
        """Whatever the host sent since the last call (never blocks)."""
        ...

    def write(self, data: bytes) -> None:
        """Send to the host; dropped when no host is connected (like a real serial line)."""
        ...

    def unplug(self) -> None:
        """Disappear: the host sees the port go away."""
        ...

    def replug(self) -> None:
        """Reappear at the same address."""
        ...

    def close(self) -> None: ...
