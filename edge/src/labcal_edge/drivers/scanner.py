"""Barcode/QR scanner in serial line mode: it only talks, one scan per line."""

from __future__ import annotations

from labcal_edge.drivers.garbage import GarbageLog
from labcal_edge.drivers.link import SerialLink
from labcal_shared.errors import ProtocolError
from labcal_shared.protocols.scanner import DeviceLabel, parse_label, parse_scan

__all__ = ["ScannerDriver"]


class ScannerDriver:
    def __init__(self, link: SerialLink, garbage: GarbageLog) -> None:
        self.link = link
        self.garbage = garbage

    def connect(self) -> None:
        self.link.open()

    def next_scan(self, timeout: float) -> tuple[str, DeviceLabel | None] | None:
        """The next scanned code and its LabCal label (if it is one), or ``None``."""
        line = self.link.read_line(timeout)
        while line is not None:
            try:
                code = parse_scan(line)
                return code, parse_label(code)
            except ProtocolError as exc:
                self.garbage.record(line, str(exc))
            line = self.link.read_line(0.0)
        return None
