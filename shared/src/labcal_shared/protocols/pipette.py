"""LabCal smart-pipette line protocol: commands, replies and unsolicited events, both directions.

No pipette maker publishes a host protocol for handheld smart pipettes (protocols.md §4), so
LabCal defines its own, documented in ``docs/protocols/pipette.md``. It is used by the simulator
(``labcal_sim``) and by the edge driver. Grammar, shared with the environment sensor
(:mod:`labcal_shared.protocols.sensor`):

* ASCII lines ending in ``CR LF``; parsers also accept a bare ``CR`` or ``LF``.
* A host command is an upper-case word and positional arguments: ``VOL 500``, ``SRV RESET``.
* A reply repeats the command word, then ``OK`` and ``key=value`` fields, or ``ERR``, an error
  code and a quoted message: ``VOL OK nominal=1000 set=500 min=100 unit=uL``,
  ``VOL ERR RANGE "volume 5000 outside 100-1000 uL"``.
* A line that is not a command at all gets ``ERR SYNTAX "<why>"`` (or ``ERR UNKNOWN``).
* Unsolicited events: ``EVT seq=<n> kind=<KIND> [key=value …]``; ``seq`` increases by one per
  event and lets the host detect a lost event and ask for it again (``EVENTS <after_seq>``).
* Values containing spaces are double-quoted; quotes and line breaks are not allowed in values.

Parsing is lenient about whitespace (any amount between tokens) and strict about structure.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from labcal_shared.errors import ProtocolError
from labcal_shared.protocols.lines import decode_line

__all__ = [
    "COMMANDS",
    "EOL",
    "ERROR_CODES",
    "EVENT_KINDS",
    "Command",
    "Counters",
    "ErrorReply",
    "Event",
    "Identity",
    "OkReply",
    "PipetteLine",
    "Reply",
    "Volume",
    "counters_from",
    "format_command",
    "format_event",
    "format_reply",
    "identity_from",
    "parse_command",
    "parse_line",
    "volume_from",
]

EOL = b"\r\n"
#: Commands a LabCal smart pipette implements (see docs/protocols/pipette.md).
COMMANDS = frozenset({"ID", "VOL", "CNT", "SRV", "DISPENSE", "BATT", "EVENTS"})
ERROR_CODES: Mapping[str, str] = MappingProxyType(
    {
        "SYNTAX": "line is not a command (lower case, bad characters)",
        "UNKNOWN": "command not implemented",
        "ARG": "missing, extra or malformed argument",
        "RANGE": "argument outside the allowed range",
        "BUSY": "cannot execute now (error state, battery empty)",
    }
)
EVENT_KINDS = frozenset({"DROP", "BATTERY", "ERROR", "SERVICE"})
_MAX_COUNT = 2**63

_WORD = re.compile(r"[A-Z][A-Z0-9_]{0,15}")
_KEY = re.compile(r"[a-z][a-z0-9_]{0,31}")
_TOKEN = re.compile(r'\s*(?:"([^"\r\n]*)"|([^\s"]+))')


class _Quoted(str):
    """A token that was quoted on the wire (never split into key=value)."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Command:
    """A host command: ``VOL 500`` → ``Command("VOL", ("500",))``."""

    name: str
    args: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class OkReply:
    """``<command> OK key=value …``."""

    command: str
    fields: Mapping[str, str] = field(default_factory=dict)

    def get(self, key: str) -> str:
        try:
            return self.fields[key]
        except KeyError:
            raise ProtocolError(f"{self.command} reply has no field {key!r}") from None


@dataclass(frozen=True, slots=True)
class ErrorReply:
    """``<command> ERR <code> "<message>"``; ``command`` is ``ERR`` when the line was no command."""

    command: str
    code: str
    message: str = ""


@dataclass(frozen=True, slots=True)
class Event:
    """``EVT seq=<n> kind=<KIND> …``: something happened on the device (drop, low battery …)."""

    seq: int
    kind: str
    fields: Mapping[str, str] = field(default_factory=dict)


Reply = OkReply | ErrorReply
PipetteLine = OkReply | ErrorReply | Event


@dataclass(frozen=True, slots=True)
class Identity:
    make: str
    model: str
    serial: str
    firmware: str
    channels: int


@dataclass(frozen=True, slots=True)
class Volume:
    """Nominal (maximum), selected and minimum volume in µL."""

    nominal_ul: float
    set_ul: float
    min_ul: float


@dataclass(frozen=True, slots=True)
class Counters:
    """Dispense cycles in the device's life and since the last service reset."""

    total: int
    since_service: int


def _tokens(text: str) -> list[str]:
    tokens: list[str] = []
    pos, end = 0, len(text.rstrip())
    while pos < end:
        match = _TOKEN.match(text, pos)
        if match is None:
            raise ProtocolError(f"unbalanced quote in pipette line {text!r}")
        quoted, plain = match.groups()
        tokens.append(_Quoted(quoted) if quoted is not None else plain)
        pos = match.end()
    return tokens


def _ascii(text: str, what: str) -> None:
    if not text.isascii() or not text.isprintable():
        raise ProtocolError(f"{what} {text!r} is not printable ASCII")


def _fields(tokens: list[str], text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if isinstance(token, _Quoted) or "=" not in token:
            raise ProtocolError(f"pipette line {text!r}: expected key=value, got {token!r}")
        key, _, value = token.partition("=")
        if not _KEY.fullmatch(key):
            raise ProtocolError(f"pipette line {text!r}: bad field name {key!r}")
        if key in out:
            raise ProtocolError(f"pipette line {text!r}: field {key!r} appears twice")
        if value == "" and i + 1 < len(tokens) and isinstance(tokens[i + 1], _Quoted):
            value = tokens[i + 1]  # key="quoted value" arrives as key= and a quoted token
            i += 1
        out[key] = str(value)
        i += 1
    return out


def parse_command(line: str | bytes) -> Command:
    """Parse a host command as the device does; :class:`ProtocolError` means "answer ERR SYNTAX"."""
    text = decode_line(line)
    _ascii(text, "pipette command")
    tokens = _tokens(text)
    if not tokens:
        raise ProtocolError("empty pipette command")
    name = tokens[0]
    if isinstance(name, _Quoted) or not _WORD.fullmatch(name):
        hint = " (commands are upper case)" if name.upper() != name else ""
        raise ProtocolError(f"{name!r} is not a pipette command word{hint}")
    return Command(name, tuple(str(t) for t in tokens[1:]))


def format_command(name: str, *args: str | int | float) -> bytes:
    """Encode a host command: ``format_command("VOL", 500)`` → ``b"VOL 500\\r\\n"``."""
    if not _WORD.fullmatch(name):
        raise ProtocolError(f"{name!r} is not a pipette command word")
    words = [_value(a) for a in args]
    for word in words:
        if " " in word or word.startswith('"'):
            raise ProtocolError(f"pipette command argument {word!r} must be one word")
    return " ".join([name, *words]).encode("ascii") + EOL


def _value(value: str | int | float) -> str:
    text = format(value, "g") if isinstance(value, float) else str(value)
    if text:
        _ascii(text, "pipette value")
    if '"' in text:
        raise ProtocolError(f"pipette values cannot contain quotes: {text!r}")
    return f'"{text}"' if (not text or " " in text) else text


def _format_fields(fields: Mapping[str, str | int | float]) -> list[str]:
    out = []
    for key, value in fields.items():
        if not _KEY.fullmatch(key):
            raise ProtocolError(f"bad pipette field name {key!r}")
        out.append(f"{key}={_value(value)}")
    return out


def format_reply(reply: Reply) -> bytes:
    """Encode a reply exactly as the device sends it, ending in ``CR LF``."""
    if not _WORD.fullmatch(reply.command):
        raise ProtocolError(f"bad pipette reply command {reply.command!r}")
    if isinstance(reply, OkReply):
        parts = [reply.command, "OK", *_format_fields(reply.fields)]
    else:
        if reply.code not in ERROR_CODES:
            raise ProtocolError(f"unknown pipette error code {reply.code!r}")
        head = ["ERR"] if reply.command == "ERR" else [reply.command, "ERR"]
        parts = [*head, reply.code, _quote(reply.message)]
    return " ".join(parts).encode("ascii") + EOL


def _quote(text: str) -> str:
    if '"' in text:
        raise ProtocolError(f"pipette messages cannot contain quotes: {text!r}")
    if text:
        _ascii(text, "pipette message")
    return f'"{text}"'


def format_event(event: Event) -> bytes:
    """Encode an unsolicited event line: ``EVT seq=17 kind=DROP``."""
    if event.kind not in EVENT_KINDS:
        raise ProtocolError(f"unknown pipette event kind {event.kind!r}")
    if event.seq < 1:
        raise ProtocolError(f"event sequence numbers start at 1, got {event.seq}")
    fields: dict[str, str | int | float] = {"seq": event.seq, "kind": event.kind}
    for key, value in event.fields.items():
        if key in fields:
            raise ProtocolError(f"event field {key!r} is reserved")
        fields[key] = value
    return " ".join(["EVT", *_format_fields(fields)]).encode("ascii") + EOL


def parse_line(line: str | bytes) -> PipetteLine:
    """Parse one device line (reply or event); :class:`ProtocolError` if it is not one."""
    text = decode_line(line)
    _ascii(text, "pipette line")
    tokens = _tokens(text)
    if len(tokens) < 2 or isinstance(tokens[0], _Quoted) or not _WORD.fullmatch(tokens[0]):
        raise ProtocolError(f"{text!r} is not a pipette reply or event")
    head = tokens[0]
    if head == "EVT":
        fields = _fields(tokens[1:], text)
        try:
            seq = int(fields.pop("seq"))
            kind = fields.pop("kind")
        except (KeyError, ValueError):
            raise ProtocolError(f"event {text!r} needs seq=<integer> and kind=<KIND>") from None
        if seq < 1 or kind not in EVENT_KINDS:
            raise ProtocolError(f"event {text!r}: bad seq or unknown kind")
        return Event(seq, kind, MappingProxyType(fields))
    if head == "ERR" and tokens[1] in ERROR_CODES:
        return _error(head, tokens[1:], text)
    status = tokens[1]
    if status == "OK":
        return OkReply(head, MappingProxyType(_fields(tokens[2:], text)))
    if status == "ERR":
        return _error(head, tokens[2:], text)
    raise ProtocolError(f"pipette reply {text!r}: expected OK or ERR after {head!r}")


def _error(command: str, rest: list[str], text: str) -> ErrorReply:
    if not rest or rest[0] not in ERROR_CODES or len(rest) > 2:
        raise ProtocolError(f'pipette error reply {text!r}: expected ERR <code> "<message>"')
    message = rest[1] if len(rest) == 2 else ""
    return ErrorReply(command, rest[0], str(message))


def _ok(reply: PipetteLine, command: str) -> OkReply:
    if isinstance(reply, OkReply) and reply.command == command:
        return reply
    raise ProtocolError(f"expected a {command} OK reply, got {reply!r}")


def _number(reply: OkReply, key: str) -> float:
    text = reply.get(key)
    try:
        value = float(text)
    except ValueError:
        raise ProtocolError(f"{reply.command} field {key}={text!r} is no number") from None
    if not math.isfinite(value):  # float() reads "nan", "inf" and "1e999"
        raise ProtocolError(f"{reply.command} field {key}={text!r} is not a finite number")
    return value


def _integer(reply: OkReply, key: str) -> int:
    """A count: 0 <= n < 2**63 (the contracts' range; int() reads any number of digits)."""
    text = reply.get(key)
    try:
        value = int(text)
    except ValueError:
        raise ProtocolError(f"{reply.command} field {key}={text!r} is no integer") from None
    if not 0 <= value < _MAX_COUNT:
        raise ProtocolError(f"{reply.command} field {key}={text!r} is out of range")
    return value


def identity_from(reply: PipetteLine) -> Identity:
    ok = _ok(reply, "ID")
    return Identity(
        ok.get("make"), ok.get("model"), ok.get("serial"), ok.get("fw"), _integer(ok, "channels")
    )


def volume_from(reply: PipetteLine) -> Volume:
    ok = _ok(reply, "VOL")
    if ok.get("unit") != "uL":
        raise ProtocolError(f"VOL reply unit {ok.get('unit')!r}: only uL is defined")
    return Volume(_number(ok, "nominal"), _number(ok, "set"), _number(ok, "min"))


def counters_from(reply: PipetteLine) -> Counters:
    """Counters from a ``CNT`` or ``SRV`` reply (both carry ``total`` and ``service``)."""
    if not isinstance(reply, OkReply) or reply.command not in ("CNT", "SRV"):
        raise ProtocolError(f"expected a CNT or SRV OK reply, got {reply!r}")
    return Counters(_integer(reply, "total"), _integer(reply, "service"))
