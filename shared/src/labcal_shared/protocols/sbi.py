"""Sartorius SBI: ``ESC`` host commands and the balance's 16/22-character print lines.

Host commands [SA6][SA7]: format 1 ``ESC <char>``, format 2 ``ESC <char><digit>_``, ``CR LF``
optional; also ``ESC kP``. Only ``ESC P``/``ESC kP`` and the ``ESC x#_`` info commands produce
output, the others are silent [SA9]. Because the terminator is optional, a simulator cannot split
commands on line ends: :func:`split_commands` cuts a byte buffer at ``ESC``.

Print lines [SA1][SA2][SA4][SA5]: 16 characters = pos 1 sign (``+``, ``-`` or space), pos 2 space,
pos 3-10 value right-aligned, pos 11 space, pos 12-14 unit, ``CR LF``; 22 characters = a 6-character
ID code (``N     ``, ``G#    ``, ``Stat  `` …) before those 16. No unit means unstable. Parsing is
lenient (any spacing, value may start at pos 2 as in ``+111.25507 mg``, a leading ``?`` marks
instability [SA10], CR/LF optional); formatting is strict. Identity lines such as
``SerNo.    0031801165`` are :class:`SbiTextLine`, never weights: a weight value has at most 9
characters and no leading zeros (SBI prints leading zeros as spaces).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from labcal_shared.errors import ProtocolError
from labcal_shared.protocols.lines import decode_line
from labcal_shared.protocols.reading import WeightReading

__all__ = [
    "COMMANDS",
    "ESC",
    "CommandSplit",
    "SbiCommand",
    "SbiLine",
    "SbiStatusLine",
    "SbiTextLine",
    "SbiWeightLine",
    "format_command",
    "format_error",
    "format_status",
    "format_text_line",
    "format_weight",
    "parse_command",
    "parse_line",
    "parse_weight",
    "split_commands",
]

ESC = "\x1b"
EOL = b"\r\n"
COMMANDS: dict[str, str] = {
    "P": "print one reading (toggles auto-print when configured)",
    "kP": "PRINT key: output to all interfaces",
    "T": "zero/tare combination",
    "U": "TARE key",
    "V": "ZERO key",
    "K": "ambient conditions: very stable",
    "L": "ambient conditions: stable",
    "M": "ambient conditions: unstable",
    "N": "ambient conditions: very unstable",
    "O": "block keys",
    "R": "unblock keys",
    "Q": "beep",
    "S": "restart / self-test",
    "W": "adjustment per menu setting",
    "Z": "internal adjustment",
    "x0_": "internal calibration (some models)",
    "x1_": "print model",
    "x2_": "print serial number",
    "x3_": "print BAC software version",
    "x4_": "print APC software version",
    "x5_": "print balance ID",
    **{f"f{n}_": "function key" for n in range(5)},
    "s3_": "CANCEL key",
}
_OUTPUT_COMMANDS = frozenset({"P", "kP", "x1_", "x2_", "x3_", "x4_", "x5_"})
_CODE = re.compile(r"[A-Z]|k[A-Z]|[a-z]\d_")
_VALUE = re.compile(
    r"(?P<unstable>\?)?\s*(?P<sign>[+-])?[\s\[]*(?P<num>\d+(?:\.\d*)?|\.\d+)"
    r"[\s\]]*(?P<unit>[^\s\d.+\-\[\]]\S*)?\s*"
)
_SPECIAL_OVER = frozenset({"H", "HH", "High"})
_SPECIAL_UNDER = frozenset({"L", "LL", "Low"})
_SPECIAL_STATUS = frozenset({"C", "Cal.Int.", "Cal.Ext.", "APP.ERR", "DIS.ERR", "PRT.ERR"})
_ERR = re.compile(r"err\s*(\d{1,3})", re.IGNORECASE)
_CODE_PREFIX = re.compile(r"|[a-z]|[a-z]\d")  # what a code can start with when cut short
_STAT = re.compile(r"Stat(?:\s+(?P<rest>.*))?")
_ID_CODE = re.compile(r"[A-Za-z][A-Za-z0-9#]{0,4}\.?")
_LABEL = re.compile(r"(?P<label>[A-Za-z][^\s]*)\s+(?P<value>\S.*?)\s*")


@dataclass(frozen=True, slots=True)
class SbiCommand:
    """One host command, by its code after ``ESC``: ``"P"``, ``"kP"``, ``"x2_"``."""

    code: str

    @property
    def known(self) -> bool:
        return self.code in COMMANDS

    @property
    def produces_output(self) -> bool:
        """Whether the balance answers; all other commands are silent [SA9]."""
        return self.code in _OUTPUT_COMMANDS


@dataclass(frozen=True, slots=True)
class CommandSplit:
    """Result of :func:`split_commands`: complete commands, the incomplete tail, garbage count."""

    commands: tuple[SbiCommand, ...]
    rest: bytes
    dropped: int


@dataclass(frozen=True, slots=True)
class SbiWeightLine:
    """A weight print line (including ``H``/``L`` over/underload); ``id_code`` for 22 chars."""

    reading: WeightReading
    id_code: str = ""


@dataclass(frozen=True, slots=True)
class SbiStatusLine:
    """A status line: ``Err 12``, ``Cal.Int.``, ``APP.ERR``, ``Stat`` lines."""

    text: str
    id_code: str = ""
    error_code: int | None = None


@dataclass(frozen=True, slots=True)
class SbiTextLine:
    """An identity or info line, e.g. ``SerNo.    0031801165`` → ``("SerNo.", "0031801165")``."""

    label: str
    value: str


SbiLine = SbiWeightLine | SbiStatusLine | SbiTextLine


def _check_code(code: str) -> str:
    if not _CODE.fullmatch(code):
        raise ProtocolError(
            f"{code!r} is not an SBI command code (expected ESC <letter> or ESC <char><digit>_)"
        )
    return code


def parse_command(line: str | bytes) -> SbiCommand:
    """Parse one complete host command, with or without ``CR LF``."""
    text = decode_line(line)
    if not text.startswith(ESC):
        raise ProtocolError(f"SBI command {text!r} does not start with ESC")
    return SbiCommand(_check_code(text[1:]))


def format_command(command: str | SbiCommand, *, crlf: bool = True) -> bytes:
    """Encode ``ESC <code>`` plus ``CR LF`` (unless ``crlf=False``).

    ``format_command("P")`` → ``b"\\x1bP\\r\\n"``.
    """
    code = _check_code(command.code if isinstance(command, SbiCommand) else command)
    return (ESC + code).encode("ascii") + (EOL if crlf else b"")


def split_commands(buffer: bytes) -> CommandSplit:
    """Cut ``buffer`` into commands at ``ESC``; keep an incomplete final command as ``rest``.

    ``CR``/``LF`` between commands are skipped; other bytes outside a command, and an ``ESC``
    followed by something that is not a command code, are dropped and counted.
    """
    commands: list[SbiCommand] = []
    dropped = 0
    pos = 0
    while pos < len(buffer):
        if buffer[pos] in b"\r\n":
            pos += 1
            continue
        if buffer[pos] != 0x1B:
            dropped += 1
            pos += 1
            continue
        tail = buffer[pos + 1 : pos + 1 + _code_size(buffer[pos + 1 : pos + 2])].decode("latin-1")
        if _CODE.fullmatch(tail):
            commands.append(SbiCommand(tail))
            pos += 1 + len(tail)
        elif _CODE_PREFIX.fullmatch(tail) and pos + 1 + len(tail) == len(buffer):
            return CommandSplit(tuple(commands), buffer[pos:], dropped)  # wait for the rest
        else:
            dropped += 1  # the ESC; what follows is looked at again
            pos += 1
    return CommandSplit(tuple(commands), b"", dropped)


def _code_size(first: bytes) -> int:
    """Length of the code after ESC, judged by its first byte (``k`` + letter, ``x1_`` …)."""
    if first == b"k":
        return 2
    return 3 if first.islower() else 1


def _parse_value(body: str, id_code: str) -> SbiLine | None:
    """The 16-character part as weight, over/underload or status line; ``None`` if neither."""
    core = body.strip().lstrip("+-").strip()
    if core in _SPECIAL_OVER or core in _SPECIAL_UNDER:
        over = core in _SPECIAL_OVER
        return SbiWeightLine(WeightReading(None, "", False, over, not over), id_code)
    if core in _SPECIAL_STATUS:
        return SbiStatusLine(core, id_code)
    if err := _ERR.fullmatch(core):
        return SbiStatusLine(core, id_code, int(err.group(1)))
    match = _VALUE.fullmatch(body)
    if match is None:
        return None
    num = match["num"]
    if len(num) > 9 or (len(num) > 1 and num[0] == "0" and num[1] != "."):
        return None  # too wide for pos 2-10, or leading zeros: an identity line, not a weight
    value = Decimal(num)
    if match["sign"] == "-":
        value = -value
    unit = match["unit"] or ""
    stable = bool(unit) and not match["unstable"]
    return SbiWeightLine(WeightReading(value, unit, stable), id_code)


def parse_line(line: str | bytes) -> SbiLine:
    """Parse one balance output line, leniently (see the module docstring)."""
    text = decode_line(line)
    if not text.strip():
        raise ProtocolError("empty SBI line")
    if not text.isprintable() or not text.isascii():
        raise ProtocolError(f"SBI line {text!r} contains non-printable or non-ASCII characters")
    stripped = text.strip()
    if stat := _STAT.fullmatch(stripped):
        rest = stat["rest"] or ""
        err = re.search(r"ERR\s*(\d+)", rest, re.IGNORECASE)
        return SbiStatusLine(rest, "Stat", int(err.group(1)) if err else None)
    if (parsed := _parse_value(text, "")) is not None:
        return parsed
    id_code = text[:6].strip()
    if (
        len(text) > 6
        and _ID_CODE.fullmatch(id_code)
        and (parsed := _parse_value(text[6:], id_code)) is not None
    ):
        return parsed
    if label := _LABEL.fullmatch(stripped):
        return SbiTextLine(label["label"], label["value"])
    raise ProtocolError(f"SBI line {text!r} is neither a weight, a status nor an identity line")


def parse_weight(line: str | bytes) -> WeightReading:
    """Parse a weight line; a status or identity line is a :class:`ProtocolError`."""
    parsed = parse_line(line)
    if isinstance(parsed, SbiWeightLine):
        return parsed.reading
    raise ProtocolError(f"SBI line {decode_line(line)!r} is not a weight: {parsed!r}")


def _with_id(sixteen: str, id_code: str | None) -> bytes:
    if id_code is None:
        return sixteen.encode("ascii") + EOL
    if len(id_code) > 6 or not id_code.isascii() or not id_code.isprintable():
        raise ProtocolError(f"SBI ID code {id_code!r} must be at most 6 printable characters")
    return (id_code.ljust(6) + sixteen).encode("ascii") + EOL


def format_weight(reading: WeightReading, *, id_code: str | None = None) -> bytes:
    """Encode a 16-character line, or 22 with ``id_code``; unstable readings get no unit.

    Overload/underload print ``H``/``L`` right-aligned in the value field (the exact column of
    these codes is not in our sources).
    """
    if reading.value is None:
        code = "H" if reading.overload else "L"
        return _with_id(f"{'+' if reading.overload else '-'} {code:>8}    ", id_code)
    number = format(abs(reading.value), "f")
    if len(number) > 9:
        raise ProtocolError(f"value {reading.value} does not fit the 9-character SBI field")
    unit = reading.unit if reading.stable else ""
    if len(unit) > 3 or not unit.isascii() or " " in unit:
        raise ProtocolError(f"SBI unit {unit!r} must be at most 3 ASCII characters")
    sign = "-" if reading.value < 0 else "+"
    return _with_id(f"{sign}{number:>9} {unit:<3}", id_code)


def format_error(code: int, *, id_code: str | None = None) -> bytes:
    """Encode an error line as printed: ``   Err  12`` / ``   Err 123`` [SA4]."""
    if not 0 <= code <= 999:
        raise ProtocolError(f"SBI error code must have at most 3 digits, got {code}")
    return _with_id(f"   Err {code:>3}".ljust(14), id_code)


def format_status(text: str, *, id_code: str | None = None) -> bytes:
    """Encode a status line such as ``Cal.Int.``, right-aligned in the value field (pos 1-10)."""
    if len(text) > 10:
        raise ProtocolError(f"SBI status text {text!r} is longer than 10 characters")
    return _with_id(text.rjust(10).ljust(14), id_code)


def format_text_line(label: str, value: str) -> bytes:
    """Encode an identity line: label in the 6-character ID field, value right-aligned in 14.

    ``format_text_line("SerNo.", "0031801165")`` → ``b"SerNo.    0031801165\\r\\n"``.
    """
    if len(value) > 14 or not value.strip():
        raise ProtocolError(f"SBI text value {value!r} must be 1-14 characters")
    return _with_id(value.rjust(14), label)
