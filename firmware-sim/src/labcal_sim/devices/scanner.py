"""A barcode/QR scanner in serial line mode: it only talks; each scan is one line.

Scans are triggered with :meth:`BarcodeScanner.scan` (tests, operator scripts) or, for a
demonstration station, every ``every_s`` seconds from a list of codes, round robin. Whatever the
host sends is ignored, as a scanner in serial mode does.
"""

from __future__ import annotations

from labcal_shared.protocols.scanner import format_scan

__all__ = ["BarcodeScanner"]


class BarcodeScanner:
    kind = "scanner"

    def __init__(
        self,
        *,
        serial: str = "SC-0001",
        codes: tuple[str, ...] = (),
        every_s: float | None = None,
    ) -> None:
        for code in codes:
            format_scan(code)  # refuse unscannable text at start-up, not at scan time
        self.serial = serial
        self._codes = codes
        self._every = every_s
        self._next_at: float | None = None
        self._index = 0
        self._queue: list[bytes] = []

    def identity(self) -> str:
        return f"LabCal SCAN-1 {self.serial} (serial line mode)"

    def scan(self, code: str) -> None:
        self._queue.append(format_scan(code))

    def receive(self, data: bytes, now: float) -> list[bytes]:
        return []

    def poll(self, now: float) -> list[bytes]:
        if self._every is not None and self._codes:
            if self._next_at is None:
                self._next_at = now + self._every
            elif now >= self._next_at:
                self._next_at = now + self._every
                self._queue.append(format_scan(self._codes[self._index % len(self._codes)]))
                self._index += 1
        out, self._queue = self._queue, []
        return out
