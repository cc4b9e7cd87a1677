"""Barcode / QR scanner in serial line mode ("keyboard wedge over COM"): one scan per line.

A scanner in serial mode sends the decoded text followed by a terminator (``CR LF`` by default;
most scanners let the user pick ``CR``, ``LF`` or ``CR LF``, so the parser accepts any). LabCal's
device labels carry ``LC1|<make>|<model>|<serial>`` in their QR code; any other text (a plain
serial-number barcode) is a bare code.
"""

from __future__ import annotations

from dataclasses import dataclass

from labcal_shared.errors import ProtocolError
from labcal_shared.protocols.lines import decode_line

__all__ = [
    "LABEL_PREFIX",
    "DeviceLabel",
    "format_label",
    "format_scan",
    "parse_label",
    "parse_scan",
]

LABEL_PREFIX = "LC1"
_MAX_CODE = 200


@dataclass(frozen=True, slots=True)
class DeviceLabel:
    """A LabCal QR label: who made the device, which model, which serial number."""

    make: str
    model: str
    serial: str


def _check(code: str) -> str:
    if not code:
        raise ProtocolError("empty scan")
    if len(code) > _MAX_CODE:
        raise ProtocolError(f"scan of {len(code)} characters is longer than {_MAX_CODE}")
    if not code.isascii() or not code.isprintable():
        raise ProtocolError(f"scan {code!r} is not printable ASCII")
    return code


def format_scan(code: str) -> bytes:
    """The bytes a scanner sends for ``code``."""
    return _check(code).encode("ascii") + b"\r\n"


def parse_scan(line: str | bytes) -> str:
    """The scanned text of one line (surrounding spaces removed)."""
    return _check(decode_line(line).strip())


def format_label(label: DeviceLabel) -> str:
    """The QR text of a LabCal device label."""
    parts = (label.make, label.model, label.serial)
    if any(not p or "|" in p for p in parts):
        raise ProtocolError(f"label fields must be non-empty and without '|': {label!r}")
    return _check("|".join((LABEL_PREFIX, *parts)))


def parse_label(code: str) -> DeviceLabel | None:
    """The device label in ``code``, or ``None`` when it is a bare code (no ``LC1|`` prefix)."""
    parts = code.split("|")
    if parts[0] != LABEL_PREFIX:
        return None
    if len(parts) != 4 or not all(parts[1:]):
        raise ProtocolError(f"LabCal label {code!r}: expected LC1|<make>|<model>|<serial>")
    return DeviceLabel(parts[1], parts[2], parts[3])
