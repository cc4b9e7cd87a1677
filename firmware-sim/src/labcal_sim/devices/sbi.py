"""A Sartorius balance speaking SBI, built on :mod:`labcal_shared.protocols.sbi`.

Host commands are ``ESC <code>`` with optional ``CR LF`` (cut at ``ESC``, protocols.md §2.1):

=========  =====================================================================
``ESC P``  one print line: 16 characters (``+  123.56 g  ``) or, with ``id_codes``, 22
           (``N     +  123.56 g  ``); no unit while unstable; ``H``/``L`` over/underload
``ESC kP`` same as ``ESC P``
``ESC T``  zero within the zero range, tare otherwise (silent)
``ESC U``  tare (silent);  ``ESC V`` zero (silent)
``ESC x1_`` model, ``x2_`` serial number (``SerNo.    0031801165``), ``x3_``/``x4_`` BAC/APC
           software versions, ``x5_`` balance ID — bare text lines
others     known codes are silent, as on the real balance; unknown ones are ignored
=========  =====================================================================

Serial setting of current models (Cubis II, Secura, Quintix, Entris II): 9600 baud, 8 data bits,
odd parity, 1 stop bit [SA9]. A pty ignores parity: open it with ``parity='N'``.
"""

from __future__ import annotations

from labcal_shared.protocols.sbi import format_text_line, format_weight, split_commands
from labcal_sim.physics.balance import BalanceModel, Range
from labcal_sim.ports import RandomSource

__all__ = ["SERIAL_SETTINGS", "SbiBalance"]

SERIAL_SETTINGS = "9600 8-O-1"
_APC_VERSION = "01-42-01"


class SbiBalance:
    kind = "balance"

    def __init__(
        self,
        model: BalanceModel,
        rng: RandomSource,
        *,
        id_codes: bool = False,
        version: str = "01-63-02",
    ) -> None:
        self.model = model
        self._rng = rng
        self._id_codes = id_codes
        self._version = version
        self._buffer = b""

    def identity(self) -> str:
        return f"Sartorius {self.model.spec.model} {self.model.spec.serial} (SBI {SERIAL_SETTINGS})"

    def receive(self, data: bytes, now: float) -> list[bytes]:
        split = split_commands(self._buffer + data)
        self._buffer = split.rest
        out: list[bytes] = []
        for command in split.commands:
            out.extend(self._execute(command.code, now))
        return out

    def poll(self, now: float) -> list[bytes]:
        return []

    def _execute(self, code: str, now: float) -> list[bytes]:
        model, spec = self.model, self.model.spec
        if code in ("P", "kP"):
            reading = model.net_reading(now, self._rng)
            return [format_weight(reading, id_code="N" if self._id_codes else None)]
        if code in ("T", "U", "V"):
            sample = model.sample(now, self._rng)
            if code == "V":
                model.zero(sample)
            elif code == "U" or model.zero(sample) is not Range.OK:
                model.tare(sample)
            return []
        info = {
            "x1_": ("Model", spec.model),
            "x2_": ("SerNo.", spec.serial),
            "x3_": ("BAC", self._version),
            "x4_": ("APC", _APC_VERSION),
            "x5_": ("ID", "LabCal sim"),
        }
        if code in info:
            return [format_text_line(*info[code])]
        return []
