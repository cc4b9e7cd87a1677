"""A Mettler Toledo balance speaking MT-SICS (level 0, level 1 and ``M28``), strictly.

Replies are built with :mod:`labcal_shared.protocols.mtsics` and follow protocols.md §1:

======  ===============================================================================
``@``   cancel ``SIR`` and pending commands; reply ``I4 A "<serial>"`` (tare kept)
``I1``  ``I1 A "0123" "2.00" "2.20" "1.00" "1.50"``
``I2``  ``I2 A "<model> Excellence <capacity> g"``
``I3``  ``I3 A "3.10 10.28.0.493.142"``
``I4``  ``I4 A "<serial>"``
``I10`` ``I10 A "<device id>"``; ``I10 "<id>"`` sets it (≤ 20 characters, else ``I10 L``)
``I11`` ``I11 A "<model>"``
``S``   ``S S <value> g`` when stable (waits up to ``stable_timeout_s``, then ``S I``)
``SI``  ``S S …`` or ``S D …`` at once (reply ID is ``S``)
``SIR`` ``S S/D …`` every ``update_s`` until ``@``, ``C`` or another weighing command
``Z``   ``Z A`` when stable; ``Z +``/``Z -`` outside the zero range; ``Z I`` on timeout
``ZI``  ``ZI S`` or ``ZI D`` at once
``T``   ``T S <tare> g`` when stable; ``T +``/``T -``; ``T I`` on timeout
``TI``  ``TI S|D <tare> g`` at once
``TA``  ``TA A <tare> g``; ``TA <value> <unit>`` presets (``TA L`` on a bad value or unit)
``TAC`` ``TAC A``
``C``   ``C B`` then ``C A`` (cancels ``SIR`` and pending ``S``/``Z``/``T``)
``M28`` ``M28 A 1 <°C>``
======  ===============================================================================

Overload and underload answer ``<ID> +`` / ``<ID> -``. An unknown or lower-case command is ``ES``;
a parameter given to a command that takes none is ``EL`` (logical error).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from labcal_shared.errors import ProtocolError
from labcal_shared.protocols.mtsics import (
    ErrorReply,
    InfoReply,
    MtCommand,
    MtReply,
    StatusReply,
    Text,
    WeightReply,
    format_reply,
    parse_command,
)
from labcal_shared.protocols.reading import parse_decimal, to_mg
from labcal_sim.devices.base import LineDevice
from labcal_sim.physics.balance import BalanceModel, Range, Sample
from labcal_sim.ports import RandomSource

__all__ = ["MtSicsBalance"]

_NO_PARAMS = frozenset({"@", "I1", "I2", "I3", "I4", "I11", "S", "SI", "SIR", "Z", "ZI", "T"})
_NO_PARAMS |= {"TI", "TAC", "C", "M28"}
_WEIGHING = frozenset({"S", "SI", "SIR"})


@dataclass(slots=True)
class _Pending:
    name: str  # S, Z or T
    since: float


class MtSicsBalance(LineDevice):
    kind = "balance"

    def __init__(
        self,
        model: BalanceModel,
        rng: RandomSource,
        *,
        temperature: Callable[[float], float] = lambda now: 22.5,
        stable_timeout_s: float = 5.0,
        update_s: float = 0.1,
    ) -> None:
        super().__init__()
        self.model = model
        self._rng = rng
        self._temperature = temperature
        self._timeout = stable_timeout_s
        self._update = update_s
        self._pending: list[_Pending] = []
        self._sir_next: float | None = None
        self.device_id = "LabCal sim"

    def identity(self) -> str:
        return f"Mettler Toledo {self.model.spec.model} {self.model.spec.serial} (MT-SICS)"

    # -- commands -------------------------------------------------------------------------------
    def handle_line(self, line: bytes, now: float) -> list[bytes]:
        try:
            command = parse_command(line)
        except ProtocolError:
            return [format_reply(ErrorReply("ES"))]
        handler = self._handlers().get(command.name)
        if handler is None:
            return [format_reply(ErrorReply("ES"))]
        if command.params and command.name in _NO_PARAMS:
            return [format_reply(ErrorReply("EL"))]
        if command.name in _WEIGHING or command.name == "@":
            self._sir_next = None
        return [format_reply(r) for r in handler(command, now)]

    def _handlers(self) -> dict[str, Callable[[MtCommand, float], list[MtReply]]]:
        return {
            "@": self._reset,
            "I1": lambda c, n: [InfoReply("I1", "A", tuple(map(Text, _I1)))],
            "I2": self._i2,
            "I3": lambda c, n: [InfoReply("I3", "A", (Text("3.10 10.28.0.493.142"),))],
            "I4": lambda c, n: [InfoReply("I4", "A", (Text(self.model.spec.serial),))],
            "I10": self._i10,
            "I11": lambda c, n: [InfoReply("I11", "A", (Text(self.model.spec.model),))],
            "S": self._wait_for_stable,
            "SI": lambda c, n: [self._weight("S", self.model.sample(n, self._rng))],
            "SIR": self._sir,
            "Z": self._wait_for_stable,
            "ZI": self._zero_immediately,
            "T": self._wait_for_stable,
            "TI": self._tare_immediately,
            "TA": self._tare_memory,
            "TAC": self._clear_tare,
            "C": self._cancel,
            "M28": lambda c, n: [InfoReply("M28", "A", ("1", f"{self._temperature(n):.1f}"))],
        }

    def _reset(self, command: MtCommand, now: float) -> list[MtReply]:
        self._pending.clear()
        return [InfoReply("I4", "A", (Text(self.model.spec.serial),))]

    def _i2(self, command: MtCommand, now: float) -> list[MtReply]:
        spec = self.model.spec
        capacity = f"{spec.capacity_g:.{spec.decimals_g}f}"
        return [InfoReply("I2", "A", (Text(f"{spec.model} Excellence {capacity} g"),))]

    def _i10(self, command: MtCommand, now: float) -> list[MtReply]:
        if not command.params:
            return [InfoReply("I10", "A", (Text(self.device_id),))]
        if len(command.params) != 1 or len(command.params[0]) > 20:
            return [StatusReply("I10", "L")]
        self.device_id = command.params[0]
        return [StatusReply("I10", "A")]

    def _weight(self, ident: str, sample: Sample) -> MtReply:
        if sample.range is Range.OVER:
            return StatusReply(ident, "+")
        if sample.range is Range.UNDER:
            return StatusReply(ident, "-")
        net = self.model.display_g(sample.gross_mg - self.model.zero_mg - self.model.tare_mg)
        return WeightReply(ident, "S" if sample.stable else "D", net, "g")

    def _sir(self, command: MtCommand, now: float) -> list[MtReply]:
        self._sir_next = now + self._update
        return [self._weight("S", self.model.sample(now, self._rng))]

    def _wait_for_stable(self, command: MtCommand, now: float) -> list[MtReply]:
        if self.model.ready(now):
            return [self._execute(command.name, self.model.sample(now, self._rng))]
        self._pending.append(_Pending(command.name, now))
        return []

    def _execute(self, name: str, sample: Sample) -> MtReply:
        """The reply to a pending ``S``/``Z``/``T`` on ``sample`` (stable or out of range)."""
        if name == "S":
            return self._weight("S", sample)
        if name == "Z":
            result = self.model.zero(sample)
            return StatusReply("Z", "A" if result is Range.OK else _RANGE_STATUS[result])
        result = self.model.tare(sample)
        if result is not Range.OK:
            return StatusReply("T", _RANGE_STATUS[result])
        return WeightReply("T", "S", self.model.tare_g(), "g")

    def _zero_immediately(self, command: MtCommand, now: float) -> list[MtReply]:
        sample = self.model.sample(now, self._rng)
        result = self.model.zero(sample)
        if result is not Range.OK:
            return [StatusReply("ZI", _RANGE_STATUS[result])]
        return [StatusReply("ZI", "S" if sample.stable else "D")]

    def _tare_immediately(self, command: MtCommand, now: float) -> list[MtReply]:
        sample = self.model.sample(now, self._rng)
        result = self.model.tare(sample)
        if result is not Range.OK:
            return [StatusReply("TI", _RANGE_STATUS[result])]
        return [WeightReply("TI", "S" if sample.stable else "D", self.model.tare_g(), "g")]

    def _tare_memory(self, command: MtCommand, now: float) -> list[MtReply]:
        if command.params:
            preset = _preset_mg(command.params)
            if preset is None or preset < 0 or preset > self.model.spec.capacity_g * 1000:
                return [StatusReply("TA", "L")]
            self.model.tare_mg = preset
        return [WeightReply("TA", "A", self.model.tare_g(), "g")]

    def _clear_tare(self, command: MtCommand, now: float) -> list[MtReply]:
        self.model.tare_mg = 0.0
        return [StatusReply("TAC", "A")]

    def _cancel(self, command: MtCommand, now: float) -> list[MtReply]:
        self._pending.clear()
        self._sir_next = None
        return [StatusReply("C", "B"), StatusReply("C", "A")]

    def handle_overlong(self, now: float) -> list[bytes]:
        return [format_reply(ErrorReply("ES"))]

    # -- time-driven output ---------------------------------------------------------------------
    def poll(self, now: float) -> list[bytes]:
        out: list[MtReply] = []
        still: list[_Pending] = []
        for pending in self._pending:
            if self.model.ready(now):
                out.append(self._execute(pending.name, self.model.sample(now, self._rng)))
            elif now - pending.since >= self._timeout:
                out.append(StatusReply(pending.name, "I"))
            else:
                still.append(pending)
        self._pending = still
        if self._sir_next is not None and now >= self._sir_next:
            self._sir_next = now + self._update
            out.append(self._weight("S", self.model.sample(now, self._rng)))
        return [format_reply(r) for r in out]


_I1 = ("0123", "2.00", "2.20", "1.00", "1.50")
_RANGE_STATUS = {Range.OVER: "+", Range.UNDER: "-"}


def _preset_mg(params: tuple[str, ...]) -> float | None:
    if len(params) != 2:
        return None
    try:
        return float(to_mg(parse_decimal(params[0]), params[1]))
    except ProtocolError:
        return None
