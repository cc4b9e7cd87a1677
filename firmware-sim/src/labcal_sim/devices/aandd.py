"""An A&D balance (FX-i style) speaking the A&D standard format, on
:mod:`labcal_shared.protocols.aandd`.

==========  =================================================================
``Q``/``SI`` one data line at once: ``ST,+00123.45  g`` / ``US,…`` / ``OL,+9999999E+19``
``S``        one data line when stable; after ``stable_timeout_s`` the current ``US`` line
             (simulator choice: the timeout behaviour is not in our sources)
``SIR``      data lines every ``update_s`` until ``C``
``C``        cancel ``S``/``SIR``
``R``/``Z``  re-zero;  ``T`` tare (silent unless ``ack``: then ``ACK CR LF``)
``?ID``      ``ID,<id>``;  ``?SN`` ``SN,<serial>``;  ``?TN`` ``TN,<model>``;  ``?PT`` tare line
``PT:<v>``   preset tare in g
unknown      ``EC,E1`` ("undefined command"; the error-code form is a simulator choice, it is
             not in protocols.md)
==========  =================================================================

The A&D line does not contain readability-dependent spacing beyond the fixed 8-character field,
so the value is printed with the balance's decimals and zero-padded. Serial setting used by the
``and-balance`` package for FX-i: 2400 baud 7-E-1 (a pty needs ``parity='N'``).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from labcal_shared.errors import ProtocolError
from labcal_shared.protocols.aandd import ACK, format_info, format_weight, parse_command
from labcal_shared.protocols.reading import WeightReading, parse_decimal
from labcal_sim.devices.base import LineDevice
from labcal_sim.physics.balance import BalanceModel
from labcal_sim.ports import RandomSource

__all__ = ["SERIAL_SETTINGS", "AndBalance"]

_FIELD = 8  # characters of the zero-padded number, decimal point included [AD1]

SERIAL_SETTINGS = "2400 7-E-1"


class AndBalance(LineDevice):
    kind = "balance"

    def __init__(
        self,
        model: BalanceModel,
        rng: RandomSource,
        *,
        ack: bool = False,
        stable_timeout_s: float = 5.0,
        update_s: float = 0.1,
    ) -> None:
        super().__init__()
        self.model = model
        self._rng = rng
        self._ack = ack
        self._timeout = stable_timeout_s
        self._update = update_s
        self._waiting_since: float | None = None
        self._stream_next: float | None = None

    def identity(self) -> str:
        return f"A&D {self.model.spec.model} {self.model.spec.serial} (A&D {SERIAL_SETTINGS})"

    def _line(self, now: float) -> bytes:
        reading = self.model.net_reading(now, self._rng)
        if reading.value is not None:
            reading = WeightReading(_fit(reading.value), reading.unit, reading.stable)
        return format_weight(reading)

    def _acknowledge(self) -> list[bytes]:
        return [ACK.encode("ascii") + b"\r\n"] if self._ack else []

    def handle_overlong(self, now: float) -> list[bytes]:
        return [format_info("EC", "E1")]

    def handle_line(self, line: bytes, now: float) -> list[bytes]:
        try:
            command = parse_command(line)
        except ProtocolError:
            return [format_info("EC", "E1")]
        name, spec = command.name, self.model.spec
        if name in ("Q", "SI"):
            return [self._line(now)]
        if name == "S":
            self._waiting_since = now
            return self.poll(now)
        if name == "SIR":
            self._stream_next = now + self._update
            return [self._line(now)]
        if name == "C":
            self._waiting_since = self._stream_next = None
            return []
        if name in ("R", "Z", "T"):
            sample = self.model.sample(now, self._rng)
            if name == "T":
                self.model.tare(sample)
            else:
                self.model.zero(sample)
            return self._acknowledge()
        if name == "PT" and command.argument is not None:
            try:
                preset = float(parse_decimal(command.argument.strip()))
            except ProtocolError:
                return [format_info("EC", "E1")]
            self.model.tare_mg = preset * 1000.0
            return self._acknowledge()
        replies = {
            "?ID": ("ID", "LABCAL01"),
            "?SN": ("SN", spec.serial),
            "?TN": ("TN", spec.model),
        }
        if name in replies:
            return [format_info(*replies[name])]
        if name == "?PT":
            tare = WeightReading(self.model.tare_g(), "g", True)
            return [format_weight(tare, header="ST", sub_header="PT")]
        if name in ("ON", "OFF", "P"):
            return self._acknowledge()
        return [format_info("EC", "E1")]

    def poll(self, now: float) -> list[bytes]:
        out: list[bytes] = []
        if self._waiting_since is not None:
            timed_out = now - self._waiting_since >= self._timeout
            if self.model.ready(now) or timed_out:
                self._waiting_since = None
                out.append(self._line(now))
        if self._stream_next is not None and now >= self._stream_next:
            self._stream_next = now + self._update
            out.append(self._line(now))
        return out


def _fit(value: Decimal) -> Decimal:
    """Drop decimals until the value fits the 8-character A&D number field (a 0.01 mg balance
    above 100 g shows fewer decimals); a value too large even without decimals stays as is and
    the codec refuses it."""
    places = max(0, -int(value.as_tuple().exponent))
    while places > 0 and len(format(abs(value), "f")) > _FIELD:
        places -= 1
        value = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return value
