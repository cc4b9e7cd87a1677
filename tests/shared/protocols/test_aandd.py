"""A&D standard-format codec: data lines and commands from protocols.md §3.1, both directions."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from labcal_shared.errors import ProtocolError
from labcal_shared.protocols import WeightReading, quantize
from labcal_shared.protocols.aandd import (
    COMMANDS,
    AndAck,
    AndCommand,
    AndInfoLine,
    AndLine,
    AndWeightLine,
    format_command,
    format_info,
    format_weight,
    parse_command,
    parse_line,
    parse_weight,
)

D = Decimal

LINES: list[tuple[str, AndLine]] = [
    ("ST,+00123.45  g", AndWeightLine("ST", WeightReading(D("123.45"), "g", True))),  # [AD1]
    ("US,+00123.45  g", AndWeightLine("US", WeightReading(D("123.45"), "g", False))),
    ("US,-00000.02  g", AndWeightLine("US", WeightReading(D("-0.02"), "g", False))),
    ("ST,+00000.00  g", AndWeightLine("ST", WeightReading(D("0.00"), "g", True))),
    ("ST,+0.012345 mg", AndWeightLine("ST", WeightReading(D("0.012345"), "mg", True))),
    ("ST,+001.2345 kg", AndWeightLine("ST", WeightReading(D("1.2345"), "kg", True))),
    ("QT,+00000120 PC", AndWeightLine("QT", WeightReading(D("120"), "PC", True))),
    ("OL,+9999999E+19", AndWeightLine("OL", WeightReading(None, "", False, overload=True))),
    ("OL,-9999999E+19", AndWeightLine("OL", WeightReading(None, "", False, underload=True))),
    ("ST,N,+00123.45  g", AndWeightLine("ST", WeightReading(D("123.45"), "g", True), "N")),
    ("ST,OK,+00123.45  g", AndWeightLine("ST", WeightReading(D("123.45"), "g", True), "OK")),
    ("ST,--,+00123.45  g", AndWeightLine("ST", WeightReading(D("123.45"), "g", True), "--")),
    ("ST,PT,+00010.00  g", AndWeightLine("ST", WeightReading(D("10.00"), "g", True), "PT")),
    ("SN,01234567", AndInfoLine("SN", "01234567")),
    ("TN,  GX-200", AndInfoLine("TN", "GX-200")),
    ("KL,000", AndInfoLine("KL", "000")),
    ("PT,+00010.00  g", AndInfoLine("PT", "+00010.00  g")),
    ("\x06", AndAck()),
]


@pytest.mark.parametrize(("line", "parsed"), LINES, ids=[repr(x[0]) for x in LINES])
@pytest.mark.parametrize("eol", ["", "\r\n", "\r", "\n"])
def test_parse_line(line: str, parsed: AndLine, eol: str) -> None:
    assert parse_line(line + eol) == parsed
    assert parse_line((line + eol).encode("ascii")) == parsed


@pytest.mark.parametrize(
    ("line", "parsed"),
    [
        ("ST, +123.45 g", LINES[0][1]),
        ("  ST,+00123.45    g  ", LINES[0][1]),
        ("ST,+123.45g", LINES[0][1]),
    ],
)
def test_parse_line_tolerates_spacing(line: str, parsed: AndLine) -> None:
    assert parse_line(line) == parsed


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("", "2-letter header"),
        ("S S     100.00 g", "2-letter header"),
        ("st,+00123.45  g", "2-letter header"),
        ("ST+00123.45  g", "2-letter header"),
        ("ST,", "expected '<sign><number> <unit>'"),
        ("ST,+00123.45.6  g", "plain decimal"),
        ("ST,+abc  g", "expected"),
        ("ST,+00123.45  g junk", "expected"),
        ("\x00\x01", "2-letter header"),
    ],
)
def test_garbage_is_a_protocol_error(line: str, message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        parse_line(line)


@pytest.mark.parametrize("line", ["SN,01234567", "\x06", "KL,000"])
def test_parse_weight_refuses_non_weight_lines(line: str) -> None:
    with pytest.raises(ProtocolError, match="not a weight"):
        parse_weight(line)


@pytest.mark.parametrize(
    ("reading", "kwargs", "wire"),
    [
        (WeightReading(D("123.45"), "g", True), {}, b"ST,+00123.45  g\r\n"),
        (WeightReading(D("123.45"), "g", False), {}, b"US,+00123.45  g\r\n"),
        (WeightReading(D("-0.02"), "g", False), {}, b"US,-00000.02  g\r\n"),
        (WeightReading(D("0.00"), "g", True), {}, b"ST,+00000.00  g\r\n"),
        (WeightReading(D("1.2345"), "kg", True), {}, b"ST,+001.2345 kg\r\n"),
        (WeightReading(D("120"), "PC", True), {"header": "QT"}, b"QT,+00000120 PC\r\n"),
        (WeightReading(None, "", False, overload=True), {}, b"OL,+9999999E+19\r\n"),
        (WeightReading(None, "", False, underload=True), {}, b"OL,-9999999E+19\r\n"),
        (WeightReading(D("123.45"), "g", True), {"sub_header": "N"}, b"ST,N,+00123.45  g\r\n"),
    ],
)
def test_format_weight(reading: WeightReading, kwargs: dict[str, str], wire: bytes) -> None:
    assert format_weight(reading, **kwargs) == wire
    assert parse_weight(wire) == reading


@pytest.mark.parametrize(
    ("reading", "kwargs", "message"),
    [
        (WeightReading(D("123456.789"), "g", True), {}, "8-character"),
        (WeightReading(D("1"), "lbs.", True), {}, "at most 3"),
        (WeightReading(D("1"), "g", True), {"header": "OL"}, "ST, US or QT"),
        (WeightReading(D("1"), "g", True), {"sub_header": "nope"}, "capital letters"),
    ],
)
def test_format_weight_refuses_what_does_not_fit(
    reading: WeightReading, kwargs: dict[str, str], message: str
) -> None:
    with pytest.raises(ProtocolError, match=message):
        format_weight(reading, **kwargs)


def test_format_info() -> None:
    assert format_info("SN", "01234567") == b"SN,01234567\r\n"
    assert parse_line(format_info("KL", "000")) == AndInfoLine("KL", "000")
    with pytest.raises(ProtocolError, match="info line"):
        format_info("ST", "+00123.45  g")
    with pytest.raises(ProtocolError, match="capital letters"):
        format_info("sn", "1")


@given(
    value=st.decimals(min_value=-999, max_value=999, allow_nan=False, allow_infinity=False),
    readability=st.sampled_from(["1", "0.1", "0.01", "0.001", "0.0001"]),
    unit=st.sampled_from(["g", "mg", "kg", "ct"]),
    stable=st.booleans(),
)
def test_weight_round_trip(value: Decimal, readability: str, unit: str, stable: bool) -> None:
    shown = quantize(value, readability)
    assume(len(format(abs(shown), "f")) <= 8)  # the field is 8 characters wide
    reading = WeightReading(shown, unit, stable)
    wire = format_weight(reading)
    assert len(wire) == 17
    parsed = parse_weight(wire)
    assert parsed == reading
    assert parsed.value is not None
    assert parsed.value.as_tuple().exponent == shown.as_tuple().exponent


@pytest.mark.parametrize("name", ["Q", "S", "SI", "SIR", "C", "R", "Z", "T", "?ID", "?SN", "?TN"])
@pytest.mark.parametrize("eol", ["", "\r\n", "\r", "\n"])
def test_commands_from_the_reference(name: str, eol: str) -> None:
    assert parse_command(name + eol) == AndCommand(name)
    assert format_command(name) == name.encode() + b"\r\n"
    assert AndCommand(name).known


def test_command_with_argument() -> None:
    assert parse_command("KL:000\r\n") == AndCommand("KL", "000")
    assert format_command(AndCommand("KL", "000")) == b"KL:000\r\n"
    assert not AndCommand("KL", "000").known
    assert set(COMMANDS) >= {"Q", "S", "SI", "SIR", "C", "R", "Z", "T", "?ID", "?SN", "?TN"}


@pytest.mark.parametrize("line", ["q", "", "?id", "SIRX", "Q Z", "\x1bP"])
def test_parse_command_rejects_malformed(line: str) -> None:
    with pytest.raises(ProtocolError, match="not an A&D command"):
        parse_command(line)


def test_format_command_rejects_line_breaks_in_arguments() -> None:
    with pytest.raises(ProtocolError, match="not an A&D"):
        format_command(AndCommand("PT", "1\r\nZ"))
