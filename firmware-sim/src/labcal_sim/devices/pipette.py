"""A LabCal smart pipette speaking the protocol of ``docs/protocols/pipette.md``.

Replies and events are built with :mod:`labcal_shared.protocols.pipette`. ``DISPENSE`` runs one
cycle of the physical model and hands the delivered volume to ``sink`` (the station's bench,
which puts the liquid on the balance) — the wire reply does not reveal the true volume.
Operator actions that are not commands (dropping the pipette, a motor error) are methods:
:meth:`SmartPipette.drop`, :meth:`SmartPipette.fail`; they queue unsolicited ``EVT`` lines.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from labcal_shared.errors import ProtocolError
from labcal_shared.protocols.pipette import (
    COMMANDS,
    Command,
    ErrorReply,
    Event,
    OkReply,
    Reply,
    format_event,
    format_reply,
    parse_command,
)
from labcal_sim.devices.base import LineDevice
from labcal_sim.physics.pipette import PipetteModel
from labcal_sim.ports import RandomSource

__all__ = ["LOW_BATTERY_PCT", "SCRIPT_KINDS", "DispenseSink", "ScriptedEvent", "SmartPipette"]

LOW_BATTERY_PCT = 10.0
_EVENT_MEMORY = 256

#: ``sink(serial, set_ul, delivered_ul, now)`` receives each dispensed volume.
DispenseSink = Callable[[str, float, float, float], object]


SCRIPT_KINDS = ("drop", "error", "leak")


@dataclass(frozen=True, slots=True)
class ScriptedEvent:
    """Something that happens to the pipette ``at_s`` seconds after it starts being served:
    ``drop`` (EVT DROP, calibration shift), ``error`` (EVT ERROR with ``code``/``text``) or
    ``leak`` (a silent seal failure: ground truth only, nothing on the wire)."""

    at_s: float
    kind: str
    code: str = ""
    text: str = ""

    def __post_init__(self) -> None:
        if self.kind not in SCRIPT_KINDS:
            raise ValueError(f"scripted event kind {self.kind!r}: one of {', '.join(SCRIPT_KINDS)}")
        if self.at_s < 0:
            raise ValueError(f"scripted event time must not be negative, got {self.at_s}")
        if self.kind == "error" and not self.code:
            raise ValueError('a scripted error needs a code, e.g. code = "E07"')


def _nowhere(serial: str, set_ul: float, delivered_ul: float, now: float) -> None:
    return None


class SmartPipette(LineDevice):
    kind = "pipette"

    def __init__(
        self,
        model: PipetteModel,
        rng: RandomSource,
        sink: DispenseSink = _nowhere,
        script: tuple[ScriptedEvent, ...] = (),
    ) -> None:
        super().__init__()
        self.model = model
        self.sink = sink
        self._rng = rng
        self._seq = 0
        self._events: deque[Event] = deque(maxlen=_EVENT_MEMORY)
        self._unsent: list[Event] = []
        self._error: str | None = None
        self._battery_warned = False
        self._script = sorted(script, key=lambda e: e.at_s)
        self._origin: float | None = None

    def identity(self) -> str:
        spec = self.model.spec
        return f"{spec.make} {spec.model} {spec.serial} (LabCal pipette protocol)"

    # -- operator actions -------------------------------------------------------------------------
    def _event(self, kind: str, **fields: str) -> Event:
        self._seq += 1
        event = Event(self._seq, kind, fields)
        self._events.append(event)
        self._unsent.append(event)
        return event

    def drop(self) -> Event:
        """The pipette was dropped: its calibration shifts; an ``EVT kind=DROP`` is sent."""
        self.model.drop(self._rng)
        return self._event("DROP", cycle=str(self.model.state.total))

    def fail(self, code: str, text: str) -> Event:
        """A device error (e.g. motor stall): commands that act answer ``BUSY`` until service."""
        self._error = code
        return self._event("ERROR", code=code, text=text)

    def _happen(self, event: ScriptedEvent) -> None:
        if event.kind == "drop":
            self.drop()
        elif event.kind == "error":
            self.fail(event.code, event.text or "device error")
        else:
            self.model.state.leaking = True
            self.model.state.history.append(f"leak at cycle {self.model.state.total}")

    # -- commands -------------------------------------------------------------------------------
    def handle_overlong(self, now: float) -> list[bytes]:
        return [format_reply(ErrorReply("ERR", "SYNTAX", "line too long"))]

    def handle_line(self, line: bytes, now: float) -> list[bytes]:
        try:
            command = parse_command(line)
        except ProtocolError as exc:
            return [format_reply(ErrorReply("ERR", "SYNTAX", _message(exc)))]
        if command.name not in COMMANDS:
            return [format_reply(ErrorReply("ERR", "UNKNOWN", f"no command {command.name}"))]
        if command.name == "EVENTS":
            return self._replay(command)
        return [format_reply(self._execute(command, now))]

    def _execute(self, command: Command, now: float) -> Reply:
        name, args, spec, state = command.name, command.args, self.model.spec, self.model.state
        if name in ("ID", "CNT", "BATT") and args:
            return ErrorReply(name, "ARG", f"{name} takes no argument")
        if name == "ID":
            return OkReply(
                "ID",
                {
                    "make": spec.make,
                    "model": spec.model,
                    "serial": spec.serial,
                    "fw": spec.firmware,
                    "channels": str(spec.channels),
                },
            )
        if name == "VOL":
            return self._volume(args)
        if name == "CNT":
            return OkReply("CNT", _counters(self.model))
        if name == "BATT":
            return OkReply("BATT", {"level": f"{state.battery_pct:.0f}"})
        if name == "SRV":
            if args != ("RESET",):
                return ErrorReply("SRV", "ARG", "use SRV RESET")
            self.model.service()
            self._error = None
            self._event("SERVICE", total=str(state.total))
            return OkReply("SRV", _counters(self.model))
        return self._dispense(args, now)

    def _volume(self, args: tuple[str, ...]) -> Reply:
        spec = self.model.spec
        if len(args) > 1:
            return ErrorReply("VOL", "ARG", "VOL takes at most one argument")
        if args:
            try:
                value = float(args[0])
            except ValueError:
                return ErrorReply("VOL", "ARG", f"{args[0]} is not a number")
            if not spec.min_ul <= value <= spec.nominal_ul:
                return ErrorReply(
                    "VOL",
                    "RANGE",
                    f"volume {args[0]} outside {spec.min_ul:g}-{spec.nominal_ul:g} uL",
                )
            self.model.state.set_ul = value
        return OkReply(
            "VOL",
            {
                "nominal": f"{spec.nominal_ul:g}",
                "set": f"{self.model.set_ul:g}",
                "min": f"{spec.min_ul:g}",
                "unit": "uL",
            },
        )

    def _dispense(self, args: tuple[str, ...], now: float) -> Reply:
        if args:
            return ErrorReply("DISPENSE", "ARG", "DISPENSE takes no argument")
        if self._error is not None:
            return ErrorReply("DISPENSE", "BUSY", f"device error {self._error}; service needed")
        if self.model.state.battery_pct <= 0.0:
            return ErrorReply("DISPENSE", "BUSY", "battery empty")
        delivered = self.model.dispense(self._rng)
        self.sink(self.model.spec.serial, self.model.set_ul, delivered, now)
        state = self.model.state
        if state.battery_pct < LOW_BATTERY_PCT and not self._battery_warned:
            self._battery_warned = True
            self._event("BATTERY", level=f"{state.battery_pct:.0f}")
        return OkReply("DISPENSE", {"cycle": str(state.total), "set": f"{self.model.set_ul:g}"})

    def _replay(self, command: Command) -> list[bytes]:
        """``EVENTS <after_seq>``: every remembered event after that number, then ``EVENTS OK``."""
        if len(command.args) != 1 or not command.args[0].isdigit():
            return [format_reply(ErrorReply("EVENTS", "ARG", "use EVENTS <after_seq>"))]
        after = int(command.args[0])
        events = [e for e in self._events if e.seq > after]
        lines = [format_event(e) for e in events]
        lines.append(
            format_reply(OkReply("EVENTS", {"count": str(len(events)), "last": str(self._seq)}))
        )
        return lines

    def poll(self, now: float) -> list[bytes]:
        if self._origin is None:
            self._origin = now
        while self._script and now - self._origin >= self._script[0].at_s:
            self._happen(self._script.pop(0))
        out = [format_event(e) for e in self._unsent]
        self._unsent.clear()
        return out


def _counters(model: PipetteModel) -> dict[str, str]:
    return {"total": str(model.state.total), "service": str(model.state.since_service)}


def _message(exc: ProtocolError) -> str:
    text = str(exc).encode("ascii", "backslashreplace").decode("ascii")
    return "".join(c if c.isprintable() else "?" for c in text).replace('"', "'")[:80]
