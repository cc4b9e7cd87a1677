"""Sartorius SBI codec: commands and print lines from protocols.md §2, both directions."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from labcal_shared.errors import ProtocolError
from labcal_shared.protocols import WeightReading, quantize
from labcal_shared.protocols.sbi import (
    COMMANDS,
    SbiCommand,
    SbiLine,
    SbiStatusLine,
    SbiTextLine,
    SbiWeightLine,
    format_command,
    format_error,
    format_status,
    format_text_line,
    format_weight,
    parse_command,
    parse_line,
    parse_weight,
    split_commands,
)

D = Decimal
ESC = "\x1b"
ALL_CODES = [
    "P", "kP", "T", "U", "V", "K", "L", "M", "N", "O", "R", "Q", "S", "W", "Z",
    "x0_", "x1_", "x2_", "x3_", "x4_", "x5_", "f0_", "f1_", "f2_", "f3_", "f4_", "s3_",
]  # fmt: skip


def _w(value: str, unit: str, stable: bool = True, id_code: str = "") -> SbiWeightLine:
    return SbiWeightLine(WeightReading(D(value), unit, stable), id_code)


OVER = SbiWeightLine(WeightReading(None, "", False, overload=True))
UNDER = SbiWeightLine(WeightReading(None, "", False, underload=True))

# Lines as protocols.md shows them, and lenient variants.
LINES: list[tuple[str, SbiLine]] = [
    ("+  123.56 g  ", _w("123.56", "g")),  # [SA1] example as printed in the reference
    ("+   123.56 g  ", _w("123.56", "g")),  # the same by the column rule (pos 3-10)
    ("+111.25507 mg", _w("111.25507", "mg")),  # [SA5] value from pos 2
    ("+   123.56     ", _w("123.56", "", stable=False)),  # unstable: no unit [SA9]
    ("-     0.50 g  ", _w("-0.50", "g")),
    ("      0.00 g  ", _w("0.00", "g")),  # pos 1 may be a space
    ("+ [ 123.56] g  ", _w("123.56", "g")),  # brackets: non-verified digit [SA1]
    ("?+   12.30 g  ", _w("12.30", "g", stable=False)),  # '?' marks instability [SA10]
    ("+    125 pcs", _w("125", "pcs")),
    ("N     +   123.56 g  ", _w("123.56", "g", id_code="N")),  # 22-char [SA1][SA3]
    ("G#    +   123.56 g  ", _w("123.56", "g", id_code="G#")),
    ("T     +     5.00 g  ", _w("5.00", "g", id_code="T")),
    ("T1    +     5.00 g  ", _w("5.00", "g", id_code="T1")),
    ("N1    +   118.56 g  ", _w("118.56", "g", id_code="N1")),
    ("Qnt   +      125 pcs", _w("125", "pcs", id_code="Qnt")),
    ("wRef  +   0.1234 g  ", _w("0.1234", "g", id_code="wRef")),
    ("Min   +    99.00 g  ", _w("99.00", "g", id_code="Min")),
    ("Total +  1234.00 g  ", _w("1234.00", "g", id_code="Total")),
    ("Avg.  +   123.40 g  ", _w("123.40", "g", id_code="Avg.")),
    ("n     +       10    ", _w("10", "", stable=False, id_code="n")),
    ("s     +    0.012 g  ", _w("0.012", "g", id_code="s")),
    ("N     +   123.56     ", _w("123.56", "", stable=False, id_code="N")),
    ("+        H    ", OVER),
    ("    H         ", OVER),
    ("  HH", OVER),
    ("High", OVER),
    ("-        L    ", UNDER),
    ("  LL", UNDER),
    ("Low", UNDER),
    ("   Err  12", SbiStatusLine("Err  12", error_code=12)),  # [SA4]
    ("   Err 123", SbiStatusLine("Err 123", error_code=123)),
    ("Cal.Int.", SbiStatusLine("Cal.Int.")),  # [SA9]
    ("  Cal.Ext.    ", SbiStatusLine("Cal.Ext.")),
    ("  C", SbiStatusLine("C")),
    ("APP.ERR", SbiStatusLine("APP.ERR")),
    ("DIS.ERR", SbiStatusLine("DIS.ERR")),
    ("PRT.ERR", SbiStatusLine("PRT.ERR")),
    ("Stat          A B", SbiStatusLine("A B", "Stat")),  # [SA3]
    ("Stat  ERR 123", SbiStatusLine("ERR 123", "Stat", 123)),
    ("SerNo.    0031801165", SbiTextLine("SerNo.", "0031801165")),  # [SA10]: not a weight
    ("SerNo.    1231801165", SbiTextLine("SerNo.", "1231801165")),  # too wide for a weight
    ("Model   MSE1203S", SbiTextLine("Model", "MSE1203S")),
]


@pytest.mark.parametrize(("line", "parsed"), LINES, ids=[repr(x[0]) for x in LINES])
@pytest.mark.parametrize("eol", ["", "\r\n", "\r", "\n"])
def test_parse_line(line: str, parsed: SbiLine, eol: str) -> None:
    assert parse_line(line + eol) == parsed
    assert parse_line((line + eol).encode("ascii")) == parsed


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("", "empty"),
        ("     \r\n", "empty"),
        ("\x00\x01\x02", "non-printable"),
        ("+  12µ.56 g", "non-ASCII"),
        ("+  12a.56 g", "neither"),
        ("++ 12.56 g", "neither"),
        ("+ 12.3.4 g", "neither"),
        ("+ 0031801165", "neither"),
        ("-------", "neither"),
        ("12.5 g trailing junk", "neither"),
    ],
)
def test_garbage_is_a_protocol_error(line: str, message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        parse_line(line)


@pytest.mark.parametrize(
    "line", ["Cal.Int.", "   Err  12", "SerNo.    0031801165", "Stat          A B"]
)
def test_parse_weight_refuses_non_weight_lines(line: str) -> None:
    with pytest.raises(ProtocolError, match="not a weight"):
        parse_weight(line)


def test_parse_weight_returns_the_reading() -> None:
    assert parse_weight(b"+   123.56 g  \r\n") == WeightReading(D("123.56"), "g", True)
    assert parse_weight(b"    H         \r\n").overload


# --- strict formatting (the simulator's side) ------------------------------------------------


@pytest.mark.parametrize(
    ("reading", "id_code", "wire"),
    [
        (WeightReading(D("123.56"), "g", True), None, b"+   123.56 g  \r\n"),
        (WeightReading(D("123.56"), "g", False), None, b"+   123.56    \r\n"),
        (WeightReading(D("111.25507"), "mg", True), None, b"+111.25507 mg \r\n"),
        (WeightReading(D("-0.50"), "g", True), None, b"-     0.50 g  \r\n"),
        (WeightReading(D("0.00"), "g", True), None, b"+     0.00 g  \r\n"),
        (WeightReading(D("125"), "pcs", True), None, b"+      125 pcs\r\n"),
        (WeightReading(D("123.56"), "g", True), "N", b"N     +   123.56 g  \r\n"),
        (WeightReading(D("123.56"), "g", True), "Avg.", b"Avg.  +   123.56 g  \r\n"),
        (WeightReading(None, "", False, overload=True), None, b"+        H    \r\n"),
        (WeightReading(None, "", False, underload=True), None, b"-        L    \r\n"),
    ],
)
def test_format_weight(reading: WeightReading, id_code: str | None, wire: bytes) -> None:
    assert format_weight(reading, id_code=id_code) == wire
    assert len(wire) == (16 if id_code is None else 22)
    parsed = parse_line(wire)
    assert isinstance(parsed, SbiWeightLine)
    assert parsed.id_code == (id_code or "")


@pytest.mark.parametrize(
    ("reading", "id_code", "message"),
    [
        (WeightReading(D("1234.56789"), "g", True), None, "9-character"),
        (WeightReading(D("1.0"), "lbs.", True), None, "at most 3"),
        (WeightReading(D("1.0"), "g", True), "TooLong", "at most 6"),
    ],
)
def test_format_weight_refuses_what_does_not_fit(
    reading: WeightReading, id_code: str | None, message: str
) -> None:
    with pytest.raises(ProtocolError, match=message):
        format_weight(reading, id_code=id_code)


def test_format_special_lines() -> None:
    assert format_error(12) == b"   Err  12    \r\n"
    assert format_error(123) == b"   Err 123    \r\n"
    assert format_status("Cal.Int.") == b"  Cal.Int.    \r\n"
    assert format_status("A B", id_code="Stat") == b"Stat         A B    \r\n"
    assert format_text_line("SerNo.", "0031801165") == b"SerNo.    0031801165\r\n"
    assert parse_line(format_error(12)) == SbiStatusLine("Err  12", error_code=12)
    assert parse_line(format_status("Cal.Int.")) == SbiStatusLine("Cal.Int.")
    assert parse_line(format_text_line("SerNo.", "0031801165")) == SbiTextLine(
        "SerNo.", "0031801165"
    )


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: format_error(1000), "3 digits"),
        (lambda: format_status("Calibrating now"), "longer than 10"),
        (lambda: format_text_line("SerNo.", "0" * 15), "1-14"),
        (lambda: format_text_line("SerialNo", "1"), "at most 6"),
    ],
)
def test_format_special_lines_refuse_overlong_text(call: Callable[[], bytes], message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        call()


@given(
    value=st.decimals(min_value=-999, max_value=999, allow_nan=False, allow_infinity=False),
    readability=st.sampled_from(["1", "0.1", "0.01", "0.001", "0.0001", "0.00001"]),
    unit=st.sampled_from(["g", "mg", "kg", "ct"]),
    stable=st.booleans(),
    id_code=st.sampled_from([None, "N", "G#", "T1", "Total", "Avg."]),
)
def test_weight_round_trip(
    value: Decimal, readability: str, unit: str, stable: bool, id_code: str | None
) -> None:
    reading = WeightReading(quantize(value, readability), unit, stable)
    wire = format_weight(reading, id_code=id_code)
    assert len(wire) == (16 if id_code is None else 22)
    expected = reading if stable else WeightReading(reading.value, "", False)
    assert parse_weight(wire) == expected
    assert str(parse_weight(wire).value).lstrip("-") == str(reading.value).lstrip("-")


# --- host commands ---------------------------------------------------------------------------


def test_command_table_covers_the_reference() -> None:
    assert sorted(COMMANDS) == sorted(ALL_CODES)


@pytest.mark.parametrize("code", ALL_CODES)
@pytest.mark.parametrize("eol", ["", "\r\n"])
def test_commands_round_trip(code: str, eol: str) -> None:
    assert parse_command(f"{ESC}{code}{eol}") == SbiCommand(code)
    assert format_command(code) == f"{ESC}{code}\r\n".encode()
    assert format_command(SbiCommand(code), crlf=False) == f"{ESC}{code}".encode()
    assert SbiCommand(code).known


def test_only_print_and_info_commands_produce_output() -> None:
    talking = {code for code in ALL_CODES if SbiCommand(code).produces_output}
    assert talking == {"P", "kP", "x1_", "x2_", "x3_", "x4_", "x5_"}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("P", "does not start with ESC"),
        ("", "does not start with ESC"),
        (f"{ESC}", "not an SBI command"),
        (f"{ESC}p", "not an SBI command"),
        (f"{ESC}x1", "not an SBI command"),
        (f"{ESC}PP", "not an SBI command"),
        (f"{ESC}1", "not an SBI command"),
    ],
)
def test_parse_command_rejects_malformed(line: str, message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        parse_command(line)


def test_format_command_rejects_malformed() -> None:
    with pytest.raises(ProtocolError, match="not an SBI command"):
        format_command("x1")


@pytest.mark.parametrize(
    ("buffer", "codes", "rest", "dropped"),
    [
        (b"\x1bP", ["P"], b"", 0),
        (b"\x1bP\r\n\x1bT\x1bx2_\r\n\x1bkP", ["P", "T", "x2_", "kP"], b"", 0),
        (b"\x1bU\x1bx", ["U"], b"\x1bx", 0),
        (b"\x1bU\x1bx2", ["U"], b"\x1bx2", 0),
        (b"\x1bk", [], b"\x1bk", 0),
        (b"\x1b", [], b"\x1b", 0),
        (b"ab\x1bP", ["P"], b"", 2),
        (b"\x1b1\x1bP", ["P"], b"", 2),
        (b"\x1bx2Q\x1bV", ["V"], b"", 4),
    ],
)
def test_split_commands(buffer: bytes, codes: list[str], rest: bytes, dropped: int) -> None:
    split = split_commands(buffer)
    assert [c.code for c in split.commands] == codes
    assert split.rest == rest
    assert split.dropped == dropped


@given(
    codes=st.lists(st.sampled_from(ALL_CODES), max_size=10),
    crlf=st.lists(st.booleans(), min_size=10, max_size=10),
    chunk=st.integers(min_value=1, max_value=7),
)
def test_split_commands_survives_any_chunking(
    codes: list[str], crlf: list[bool], chunk: int
) -> None:
    stream = b"".join(format_command(c, crlf=eol) for c, eol in zip(codes, crlf, strict=False))
    buffer = b""
    seen: list[str] = []
    for start in range(0, len(stream), chunk):
        split = split_commands(buffer + stream[start : start + chunk])
        assert split.dropped == 0
        seen.extend(c.code for c in split.commands)
        buffer = split.rest
    assert seen == codes
    assert buffer == b""
