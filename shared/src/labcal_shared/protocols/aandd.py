"""A&D standard format: ``ST,+00123.45  g`` data lines and the plain-text host commands.

Data lines [AD1][AD2]: a 2-character header (``ST`` stable weight, ``US`` unstable, ``QT`` stable
count, ``OL`` out of range), a comma, a sign (``+`` also for zero) and a zero-padded number
8 characters wide including the decimal point, then the unit right-aligned in 3 characters, and
``CR LF``. Some models add a second header (checkweighing ``LO``/``OK``/``HI``/``--`` or
``N``/``G``/``T``/``PT``) before the data [AD1]. Overload is ``OL,+9999999E+19`` [AD4]; an
``OL`` with a minus sign is taken as underload. Other replies (``?SN`` → ``SN,…``, key lock
``KL,000``, error codes) are ``XX,text`` lines and come back as :class:`AndInfoLine`; a bare ACK
byte (0x06, optional on some models) is :class:`AndAck`.

Host commands [AD3][AD5]: ``Q``/``SI`` immediate data, ``S`` stable data, ``SIR`` continuous,
``C`` cancel, ``R``/``Z`` re-zero, ``T`` tare, ``?ID``, ``?SN``, ``?TN``, ``?PT`` …, ``CR LF``.
Parsing is lenient in spacing and line ends; formatting is strict.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from labcal_shared.errors import ProtocolError
from labcal_shared.protocols.lines import decode_line
from labcal_shared.protocols.reading import WeightReading, parse_decimal

__all__ = [
    "ACK",
    "COMMANDS",
    "OVERLOAD_DATA",
    "WEIGHT_HEADERS",
    "AndAck",
    "AndCommand",
    "AndInfoLine",
    "AndLine",
    "AndWeightLine",
    "format_command",
    "format_info",
    "format_weight",
    "parse_command",
    "parse_line",
    "parse_weight",
]

ACK = "\x06"
EOL = b"\r\n"
OVERLOAD_DATA = "9999999E+19"
WEIGHT_HEADERS: dict[str, str] = {
    "ST": "stable weight",
    "US": "unstable weight",
    "QT": "stable count",
    "OL": "out of range",
}
COMMANDS: dict[str, str] = {
    "Q": "send data immediately",
    "SI": "send data immediately",
    "S": "send data when stable",
    "SIR": "send data continuously",
    "C": "cancel S / SIR",
    "R": "re-zero",
    "Z": "re-zero",
    "T": "tare",
    "ON": "display on",
    "OFF": "display off",
    "P": "display on/off toggle",
    "?ID": "query ID number",
    "?SN": "query serial number",
    "?TN": "query model name",
    "?PT": "query preset tare",
    "PT": "set preset tare",
}
_LINE = re.compile(r"(?P<header>[A-Z]{2}),(?:(?P<sub>[A-Z]{1,2}|--),)?(?P<data>.*)")
_DATA = re.compile(r"\s*(?P<sign>[+-])?\s*(?P<num>[\d.]+)\s*(?P<unit>[^\s\d.,+-]\S*)?\s*")
_COMMAND = re.compile(r"(?P<name>\?[A-Z]{2}|[A-Z]{1,3})(?:[:,](?P<arg>.*))?")
_NUMBER_WIDTH = 8


@dataclass(frozen=True, slots=True)
class AndWeightLine:
    """A data line: ``header`` is ST/US/QT/OL, ``sub_header`` the optional second header."""

    header: str
    reading: WeightReading
    sub_header: str = ""


@dataclass(frozen=True, slots=True)
class AndInfoLine:
    """Any other ``XX,text`` reply, e.g. ``SN,01234567`` or ``KL,000``."""

    header: str
    text: str


@dataclass(frozen=True, slots=True)
class AndAck:
    """The optional ``<ACK>`` acknowledgement of a command."""


AndLine = AndWeightLine | AndInfoLine | AndAck


@dataclass(frozen=True, slots=True)
class AndCommand:
    """A host command: ``Q`` → ``AndCommand("Q")``; ``KL:000`` → ``AndCommand("KL", "000")``."""

    name: str
    argument: str | None = None

    @property
    def known(self) -> bool:
        return self.name in COMMANDS


def parse_line(line: str | bytes) -> AndLine:
    """Parse one balance output line; :class:`ProtocolError` if it is not A&D format."""
    text = decode_line(line)
    if text.strip() == ACK:
        return AndAck()
    match = _LINE.fullmatch(text.strip())
    if match is None:
        raise ProtocolError(f"A&D line {text!r} does not start with a 2-letter header and comma")
    header, sub, data = match["header"], match["sub"] or "", match["data"]
    if header not in WEIGHT_HEADERS:
        if sub:  # the optional second header exists only on data lines
            data = f"{sub},{data}"
        return AndInfoLine(header, data.strip())
    if header == "OL":
        underload = data.strip().startswith("-")
        reading = WeightReading(None, "", False, overload=not underload, underload=underload)
        return AndWeightLine(header, reading, sub)
    value = _DATA.fullmatch(data)
    if value is None:
        raise ProtocolError(f"A&D data {data!r} in {text!r}: expected '<sign><number> <unit>'")
    number = parse_decimal(value["num"], f"A&D value in {text!r}:")
    if value["sign"] == "-":
        number = -number
    reading = WeightReading(number, value["unit"] or "", stable=header != "US")
    return AndWeightLine(header, reading, sub)


def parse_weight(line: str | bytes) -> WeightReading:
    """Parse a data line into a :class:`WeightReading`; other lines are :class:`ProtocolError`."""
    parsed = parse_line(line)
    if isinstance(parsed, AndWeightLine):
        return parsed.reading
    raise ProtocolError(f"A&D line {decode_line(line)!r} is not a weight: {parsed!r}")


def _check_header(header: str, what: str) -> None:
    if not re.fullmatch(r"[A-Z]{1,2}|--", header):
        raise ProtocolError(f"A&D {what} {header!r} must be one or two capital letters")


def format_weight(
    reading: WeightReading, *, header: str | None = None, sub_header: str = ""
) -> bytes:
    """Encode a data line: ``ST,+00123.45  g``; ``header`` defaults to ST/US/OL by the reading.

    Pass ``header="QT"`` for counting mode. Over/underload is ``OL,±9999999E+19`` [AD4].
    """
    if reading.value is None:
        header = "OL"
        data = ("-" if reading.underload else "+") + OVERLOAD_DATA
    else:
        header = header or ("ST" if reading.stable else "US")
        if header not in ("ST", "US", "QT"):
            raise ProtocolError(f"A&D header for a value must be ST, US or QT, got {header!r}")
        number = format(abs(reading.value), "f").zfill(_NUMBER_WIDTH)
        if len(number) > _NUMBER_WIDTH:
            raise ProtocolError(f"value {reading.value} does not fit the 8-character A&D field")
        if len(reading.unit) > 3 or not reading.unit.isascii() or " " in reading.unit:
            raise ProtocolError(f"A&D unit {reading.unit!r} must be at most 3 ASCII characters")
        sign = "-" if reading.value < 0 else "+"
        data = f"{sign}{number}{reading.unit:>3}"
    prefix = header + ","
    if sub_header:
        _check_header(sub_header, "second header")
        prefix += sub_header + ","
    return (prefix + data).encode("ascii") + EOL


def format_info(header: str, text: str) -> bytes:
    """Encode an ``XX,text`` reply, e.g. ``format_info("SN", "01234567")``."""
    _check_header(header, "header")
    if header in WEIGHT_HEADERS or not (text.isascii() and text.isprintable()):
        raise ProtocolError(f"cannot format A&D info line {header!r},{text!r}")
    return f"{header},{text}".encode("ascii") + EOL


def parse_command(line: str | bytes) -> AndCommand:
    """Parse a host command (upper case; ``NAME`` or ``NAME:argument``)."""
    text = decode_line(line).strip()
    match = _COMMAND.fullmatch(text)
    if match is None:
        raise ProtocolError(f"{text!r} is not an A&D command")
    return AndCommand(match["name"], match["arg"])


def format_command(command: str | AndCommand) -> bytes:
    """Encode a host command with ``CR LF``: ``format_command("Q")`` → ``b"Q\\r\\n"``."""
    parsed = parse_command(command) if isinstance(command, str) else command
    argument = parsed.argument or ""
    if not _COMMAND.fullmatch(parsed.name) or not (argument.isascii() and argument.isprintable()):
        raise ProtocolError(f"{parsed.name!r} is not an A&D command")
    text = parsed.name if parsed.argument is None else f"{parsed.name}:{parsed.argument}"
    return text.encode("ascii") + EOL
