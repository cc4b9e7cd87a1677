"""Mettler Toledo MT-SICS: host commands and balance replies, both directions.

Replies are parsed leniently [protocols.md §0, §6]: whitespace tokens (any amount), quote-aware
(``I2 A "WXS205SDU WXA-Bridge 220.00900 g"`` is one field), any ``CR``/``LF`` ending. Replies are
formatted strictly, as the manuals show them [MT1][MT4][MT10]: ``ID status fields CR LF``, a weight
value right-aligned in a 10-character field, then a space and the unit (``S S     100.00 g``).

Host commands are parsed strictly (a simulator must answer ``ES`` where a real balance would):
the command name is upper case [MT1][MT6]; parameters are separated by spaces, text is quoted.

Reply types: :class:`WeightReply` (``S S 100.00 g``, ``T S …``, ``TA A …``),
:class:`HardwareErrorReply` (``S S Error 12t``), :class:`StatusReply` (no fields: ``Z A``,
``S I``, ``S +``, ``C B``), :class:`InfoReply` (fields: ``I4 A "B123456789"``, ``M28 A 1 22.5``)
and :class:`ErrorReply` (``ES``, ``ET``, ``EL``). Quoted fields come back as :class:`Text`, so
formatting puts the quotes back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from labcal_shared.errors import ProtocolError
from labcal_shared.protocols.lines import decode_line
from labcal_shared.protocols.reading import WeightReading, parse_decimal

__all__ = [
    "ERROR_CODES",
    "STATUS_CODES",
    "WEIGHT_COMMANDS",
    "BalanceData",
    "ErrorReply",
    "HardwareErrorReply",
    "InfoReply",
    "MtCommand",
    "MtReply",
    "StatusReply",
    "Text",
    "WeightReply",
    "format_command",
    "format_reply",
    "parse_balance_data",
    "parse_command",
    "parse_reply",
    "parse_weight",
    "reply_answers",
    "weight_field",
]

EOL = b"\r\n"
STATUS_CODES: dict[str, str] = {
    "A": "executed",
    "B": "more lines follow",
    "S": "stable value / executed",
    "D": "dynamic (unstable) value",
    "I": "not executable now (busy or stability timeout)",
    "L": "parameter wrong or not possible",
    "+": "overload",
    "-": "underload",
}
ERROR_CODES: dict[str, str] = {
    "ES": "syntax error: command not recognised",
    "ET": "transmission error",
    "EL": "logical error: command cannot be executed",
}
#: Replies whose ``S``/``D``/``A`` status carries ``<value> <unit>`` [MT1][MT8][MT9][MT10].
WEIGHT_COMMANDS = frozenset({"S", "SI", "SIR", "SNR", "SR", "SC", "T", "TI", "TA", "TC"})
#: Reply IDs that answer a weight command. The manuals answer ``SI`` with ``S S …``/``S D …``
#: [MT9][MT10]; third-party balances and emulators answer with the command's own ID
#: (``SI S     0.0000 g``, mt-sics-emulator 0.1.1); ``SIR``/``SNR`` stream ``S …`` lines.
_WEIGHT_REPLY_IDS: dict[str, frozenset[str]] = {
    "S": frozenset({"S"}),
    "SI": frozenset({"S", "SI"}),
    "SIR": frozenset({"S", "SI", "SIR"}),
    "SNR": frozenset({"S", "SNR"}),
    "SC": frozenset({"S", "SC"}),
}
_WEIGHT_STATUSES = frozenset("SDA")
_HW_ERROR = re.compile(r"(\d+)([te])")
_COMMAND_NAME = re.compile(r"@|[A-Z][A-Z0-9]{0,4}")
_TOKEN = re.compile(r'\s*(?:"([^"]*)"|([^\s"]+))')


class Text(str):
    """A quoted MT-SICS field or parameter (``"B123456789"``); formatted with its quotes."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class WeightReply:
    """``S S     100.00 g``: a value reply to a weighing or tare command."""

    command: str
    status: str
    value: Decimal
    unit: str

    @property
    def stable(self) -> bool:
        return self.status != "D"

    def reading(self) -> WeightReading:
        return WeightReading(self.value, self.unit, self.stable)


@dataclass(frozen=True, slots=True)
class HardwareErrorReply:
    """``S S Error 12t``: weigh-module hardware error; source ``t`` terminal, ``e`` electronics."""

    command: str
    status: str
    code: int
    source: str


@dataclass(frozen=True, slots=True)
class StatusReply:
    """A reply without fields: ``Z A``, ``ZI D``, ``S I``, ``S +``, ``TAC A``, ``C B``."""

    command: str
    status: str

    @property
    def final(self) -> bool:
        return self.status != "B"


@dataclass(frozen=True, slots=True)
class InfoReply:
    """A reply with fields: ``I4 A "B123456789"``, ``I15 A 123014``, ``M28 B 1 21.8``."""

    command: str
    status: str
    fields: tuple[str, ...]

    @property
    def final(self) -> bool:
        return self.status != "B"


@dataclass(frozen=True, slots=True)
class ErrorReply:
    """``ES``, ``ET`` or ``EL``: the balance rejected the command as a whole."""

    code: str

    @property
    def description(self) -> str:
        return ERROR_CODES[self.code]


MtReply = WeightReply | HardwareErrorReply | StatusReply | InfoReply | ErrorReply


@dataclass(frozen=True, slots=True)
class MtCommand:
    """A host command: ``SI`` → ``MtCommand("SI")``; ``TA 100.00 g`` → ``("TA", ("100.00", "g"))``.

    Quoted parameters (``D "Hallo"``) are :class:`Text`.
    """

    name: str
    params: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BalanceData:
    """The ``I2`` reply: balance type, capacity and unit [MT8]."""

    balance_type: str
    capacity: Decimal
    unit: str


def _tokens(text: str) -> list[str]:
    """Split on whitespace, keeping quoted text as one :class:`Text` token."""
    tokens: list[str] = []
    pos = 0
    end = len(text.rstrip())
    while pos < end:
        match = _TOKEN.match(text, pos)
        if match is None:
            raise ProtocolError(f"unbalanced quote in MT-SICS line {text!r}")
        quoted, plain = match.groups()
        tokens.append(Text(quoted) if quoted is not None else plain)
        pos = match.end()
    return tokens


def parse_reply(line: str | bytes) -> MtReply:
    """Parse one balance reply line; :class:`ProtocolError` if it is not MT-SICS."""
    text = decode_line(line)
    tokens = _tokens(text)
    if not tokens:
        raise ProtocolError("empty MT-SICS reply line")
    ident = tokens[0]
    if len(tokens) == 1 and ident in ERROR_CODES:
        return ErrorReply(ident)
    if isinstance(ident, Text) or not _COMMAND_NAME.fullmatch(ident) or ident == "@":
        raise ProtocolError(f"MT-SICS reply {text!r} does not start with a command ID")
    if len(tokens) < 2 or tokens[1] not in STATUS_CODES:
        raise ProtocolError(
            f"MT-SICS reply {text!r} has no status after {ident!r} "
            f"(expected one of {' '.join(STATUS_CODES)})"
        )
    status, fields = tokens[1], tokens[2:]
    if not fields:
        if ident in WEIGHT_COMMANDS and status in ("S", "D"):
            raise ProtocolError(f"MT-SICS weight reply {text!r} has no value and unit")
        return StatusReply(ident, status)
    if ident in WEIGHT_COMMANDS and status in _WEIGHT_STATUSES:
        return _weight_or_hardware_error(ident, status, fields, text)
    if status in ("+", "-"):
        raise ProtocolError(f"MT-SICS reply {text!r}: status {status!r} takes no fields")
    return InfoReply(ident, status, tuple(fields))


def _weight_or_hardware_error(
    ident: str, status: str, fields: list[str], text: str
) -> WeightReply | HardwareErrorReply:
    if fields[0] == "Error" and len(fields) == 2 and (match := _HW_ERROR.fullmatch(fields[1])):
        return HardwareErrorReply(ident, status, int(match.group(1)), match.group(2))
    if len(fields) != 2 or any(isinstance(f, Text) for f in fields):
        raise ProtocolError(f"MT-SICS weight reply {text!r}: expected '<value> <unit>'")
    value = parse_decimal(fields[0], f"MT-SICS weight value in {text!r}:")
    return WeightReply(ident, status, value, fields[1])


def parse_weight(line: str | bytes) -> WeightReading:
    """Parse a weight reply into a :class:`WeightReading` (``S +``/``S -`` are over/underload).

    Anything else (``S I``, ``ES``, a hardware error, an info line) is a :class:`ProtocolError`
    whose message says what the balance answered instead.
    """
    reply = parse_reply(line)
    if isinstance(reply, WeightReply):
        return reply.reading()
    if isinstance(reply, StatusReply) and reply.status in ("+", "-"):
        over = reply.status == "+"
        return WeightReading(None, "", False, overload=over, underload=not over)
    if isinstance(reply, ErrorReply):
        raise ProtocolError(f"balance answered {reply.code} ({reply.description}), not a weight")
    if isinstance(reply, HardwareErrorReply):
        raise ProtocolError(f"balance reported hardware error {reply.code}{reply.source}")
    raise ProtocolError(
        f"balance answered {reply.command} {reply.status} "
        f"({STATUS_CODES[reply.status]}), not a weight"
    )


def reply_answers(command: str, reply: MtReply) -> bool:
    """True when ``reply`` is the balance's answer to ``command`` (not a stray or late line).

    ``ES``/``ET``/``EL`` answer any command; a weight command is answered under any of the reply
    IDs balances use for it (``SI`` → ``S S …`` or ``SI S …``); other commands by their own ID.
    """
    if isinstance(reply, ErrorReply):
        return True
    return reply.command in _WEIGHT_REPLY_IDS.get(command, frozenset({command}))


def parse_balance_data(reply: InfoReply) -> BalanceData:
    """Split ``I2 A "WXS205SDU WXA-Bridge 220.00900 g"`` from the right (the type has spaces)."""
    if reply.command != "I2" or len(reply.fields) != 1:
        raise ProtocolError(f"not an I2 balance-data reply: {reply!r}")
    parts = reply.fields[0].rsplit(None, 2)
    if len(parts) != 3:
        raise ProtocolError(f"I2 data {reply.fields[0]!r}: expected '<type> <capacity> <unit>'")
    capacity = parse_decimal(parts[1], "I2 capacity")
    return BalanceData(parts[0], capacity, parts[2])


def parse_command(line: str | bytes) -> MtCommand:
    """Parse a host command as a balance would; :class:`ProtocolError` means "answer ``ES``"."""
    text = decode_line(line)
    tokens = _tokens(text)
    if not tokens:
        raise ProtocolError("empty MT-SICS command")
    name = tokens[0]
    if isinstance(name, Text) or not _COMMAND_NAME.fullmatch(name):
        hint = " (commands are upper case)" if name.upper() != name else ""
        raise ProtocolError(f"{name!r} is not an MT-SICS command name{hint}")
    return MtCommand(name, tuple(tokens[1:]))


def _as_str(item: str | int | Decimal) -> str:
    if isinstance(item, Decimal):
        if not item.is_finite():
            raise ProtocolError(f"cannot send a non-finite number {item!r}")
        return format(item, "f")  # plain decimal, never an exponent [MT10]
    if isinstance(item, int):
        return str(item)
    return item  # a Text stays Text, so it keeps its quotes


def _field(item: str | int | Decimal) -> str:
    item = _as_str(item)
    if '"' in item or "\r" in item or "\n" in item:
        raise ProtocolError(f"MT-SICS text cannot contain quotes or line breaks: {item!r}")
    if isinstance(item, Text) or not item or any(c.isspace() for c in item):
        return f'"{item}"'
    return item


def format_command(command: str | MtCommand, *params: str | int | Decimal) -> bytes:
    """Encode a host command with ``CR LF``: ``format_command("SI")`` → ``b"SI\\r\\n"``.

    ``command`` is a name (``"TA"``, then ``params``), a whole command line (``"TA 100.00 g"``),
    or an :class:`MtCommand`. It is validated as a balance would; text containing spaces, or
    given as :class:`Text`, is quoted.
    """
    if isinstance(command, str):
        parsed = parse_command(command)
        command = MtCommand(parsed.name, parsed.params + tuple(_as_str(p) for p in params))
    elif params:
        raise TypeError("give parameters either in the MtCommand or as arguments, not both")
    elif not _COMMAND_NAME.fullmatch(command.name):
        raise ProtocolError(f"{command.name!r} is not an MT-SICS command name")
    return " ".join([command.name, *(_field(p) for p in command.params)]).encode("latin-1") + EOL


def weight_field(value: Decimal) -> str:
    """The value as the manuals print it: right-aligned in a 10-character field [MT10]."""
    return _field(value).rjust(10)


def format_reply(reply: MtReply) -> bytes:
    """Encode a reply exactly as a balance sends it, ending in ``CR LF``."""
    if isinstance(reply, ErrorReply):
        if reply.code not in ERROR_CODES:
            raise ProtocolError(f"unknown MT-SICS error code {reply.code!r}")
        return reply.code.encode("ascii") + EOL
    if not _COMMAND_NAME.fullmatch(reply.command) or reply.status not in STATUS_CODES:
        raise ProtocolError(f"cannot format reply {reply!r}: bad command ID or status")
    head = f"{reply.command} {reply.status}"
    if isinstance(reply, WeightReply):
        if not reply.unit or any(c.isspace() for c in reply.unit):
            raise ProtocolError(f"weight unit must be one word, got {reply.unit!r}")
        line = f"{head} {weight_field(reply.value)} {reply.unit}"
    elif isinstance(reply, HardwareErrorReply):
        if reply.source not in ("t", "e") or reply.code < 0:
            raise ProtocolError(f"cannot format hardware error {reply!r}")
        line = f"{head} Error {reply.code}{reply.source}"
    elif isinstance(reply, InfoReply):
        line = " ".join([head, *(_field(f) for f in reply.fields)])
    else:
        line = head
    return line.encode("latin-1") + EOL
