"""MT-SICS codec: every reply and command string from protocols.md §1, both directions."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from labcal_shared.errors import ProtocolError
from labcal_shared.protocols import WeightReading, decimals_for, quantize
from labcal_shared.protocols.mtsics import (
    WEIGHT_COMMANDS,
    BalanceData,
    ErrorReply,
    HardwareErrorReply,
    InfoReply,
    MtCommand,
    MtReply,
    StatusReply,
    Text,
    WeightReply,
    format_command,
    format_reply,
    parse_balance_data,
    parse_command,
    parse_reply,
    parse_weight,
)

D = Decimal

# (reply line as in protocols.md, parsed reply, canonical bytes a simulator sends). Quoted fields
# are Text, which compares equal to str: the table shows the quoting a simulator must reproduce.
REPLIES: list[tuple[str, MtReply, bytes]] = [
    ("S S     100.00 g", WeightReply("S", "S", D("100.00"), "g"), b"S S     100.00 g\r\n"),
    ("S S 100.00 g", WeightReply("S", "S", D("100.00"), "g"), b"S S     100.00 g\r\n"),  # [MT1]
    ("S D 1.234 g", WeightReply("S", "D", D("1.234"), "g"), b"S D      1.234 g\r\n"),  # [MT9]
    ("SI S 1.234 g", WeightReply("SI", "S", D("1.234"), "g"), b"SI S      1.234 g\r\n"),
    ("S S    -12.5 mg", WeightReply("S", "S", D("-12.5"), "mg"), b"S S      -12.5 mg\r\n"),
    ("S I", StatusReply("S", "I"), b"S I\r\n"),
    ("S +", StatusReply("S", "+"), b"S +\r\n"),
    ("S -", StatusReply("S", "-"), b"S -\r\n"),
    ("ES", ErrorReply("ES"), b"ES\r\n"),
    ("ET", ErrorReply("ET"), b"ET\r\n"),
    ("EL", ErrorReply("EL"), b"EL\r\n"),
    ("S S Error 12t", HardwareErrorReply("S", "S", 12, "t"), b"S S Error 12t\r\n"),
    ("S S Error 15e", HardwareErrorReply("S", "S", 15, "e"), b"S S Error 15e\r\n"),
    ('I0 B 0 "I0"', InfoReply("I0", "B", ("0", Text("I0"))), b'I0 B 0 "I0"\r\n'),
    ('I0 A 1 "TAC"', InfoReply("I0", "A", ("1", Text("TAC"))), b'I0 A 1 "TAC"\r\n'),
    ("I0 I", StatusReply("I0", "I"), b"I0 I\r\n"),
    (
        'I1 A "0123" "2.00" "2.20" "1.00" "1.50"',
        InfoReply("I1", "A", tuple(map(Text, ["0123", "2.00", "2.20", "1.00", "1.50"]))),
        b'I1 A "0123" "2.00" "2.20" "1.00" "1.50"\r\n',
    ),
    (
        'I2 A "WXS205SDU WXA-Bridge 220.00900 g"',
        InfoReply("I2", "A", (Text("WXS205SDU WXA-Bridge 220.00900 g"),)),
        b'I2 A "WXS205SDU WXA-Bridge 220.00900 g"\r\n',
    ),
    (
        'I3 A "3.10 10.28.0.493.142"',
        InfoReply("I3", "A", (Text("3.10 10.28.0.493.142"),)),
        b'I3 A "3.10 10.28.0.493.142"\r\n',
    ),
    ('I4 A "B123456789"', InfoReply("I4", "A", (Text("B123456789"),)), b'I4 A "B123456789"\r\n'),
    ('I5 A "12121306C"', InfoReply("I5", "A", (Text("12121306C"),)), b'I5 A "12121306C"\r\n'),
    ('I10 A "My Balance"', InfoReply("I10", "A", (Text("My Balance"),)), b'I10 A "My Balance"\r\n'),
    ('I11 A "XS205DU"', InfoReply("I11", "A", (Text("XS205DU"),)), b'I11 A "XS205DU"\r\n'),
    ("I15 A 123014", InfoReply("I15", "A", ("123014",)), b"I15 A 123014\r\n"),
    ("Z A", StatusReply("Z", "A"), b"Z A\r\n"),
    ("Z I", StatusReply("Z", "I"), b"Z I\r\n"),
    ("Z +", StatusReply("Z", "+"), b"Z +\r\n"),
    ("Z -", StatusReply("Z", "-"), b"Z -\r\n"),
    ("ZI S", StatusReply("ZI", "S"), b"ZI S\r\n"),
    ("ZI D", StatusReply("ZI", "D"), b"ZI D\r\n"),
    ("ZI A", StatusReply("ZI", "A"), b"ZI A\r\n"),
    ("T S 10.00 g", WeightReply("T", "S", D("10.00"), "g"), b"T S      10.00 g\r\n"),
    ("T I", StatusReply("T", "I"), b"T I\r\n"),
    ("TI S 0.50 g", WeightReply("TI", "S", D("0.50"), "g"), b"TI S       0.50 g\r\n"),
    ("TI D 0.51 g", WeightReply("TI", "D", D("0.51"), "g"), b"TI D       0.51 g\r\n"),
    ("TI L", StatusReply("TI", "L"), b"TI L\r\n"),
    ("TA A 100.00 g", WeightReply("TA", "A", D("100.00"), "g"), b"TA A     100.00 g\r\n"),
    ("TA L", StatusReply("TA", "L"), b"TA L\r\n"),
    ("TAC A", StatusReply("TAC", "A"), b"TAC A\r\n"),
    ("C B", StatusReply("C", "B"), b"C B\r\n"),
    ("C A", StatusReply("C", "A"), b"C A\r\n"),
    ("C3 B", StatusReply("C3", "B"), b"C3 B\r\n"),
    ("C3 A", StatusReply("C3", "A"), b"C3 A\r\n"),
    ("D A", StatusReply("D", "A"), b"D A\r\n"),
    ("DW A", StatusReply("DW", "A"), b"DW A\r\n"),
    ("M28 A 1 22.5", InfoReply("M28", "A", ("1", "22.5")), b"M28 A 1 22.5\r\n"),
    ("M28 B 1 21.8", InfoReply("M28", "B", ("1", "21.8")), b"M28 B 1 21.8\r\n"),
    ("M28 A 2 22.1", InfoReply("M28", "A", ("2", "22.1")), b"M28 A 2 22.1\r\n"),
]


@pytest.mark.parametrize(("line", "reply", "wire"), REPLIES, ids=[r[0] for r in REPLIES])
@pytest.mark.parametrize("eol", ["", "\r\n", "\r", "\n"])
def test_parse_reply(line: str, reply: MtReply, wire: bytes, eol: str) -> None:
    assert parse_reply(line + eol) == reply
    assert parse_reply((line + eol).encode("latin-1")) == reply


@pytest.mark.parametrize(("line", "reply", "wire"), REPLIES, ids=[r[0] for r in REPLIES])
def test_parse_reply_tolerates_extra_whitespace(line: str, reply: MtReply, wire: bytes) -> None:
    spaced = "  " + line.replace(" ", "   ").replace('"   ', '" ') + "  \r\n"
    if '"' in line:  # spaces inside quotes are data; only widen the gaps outside them
        spaced = "  " + line.replace('" "', '"   "') + " \r\n"
    assert parse_reply(spaced) == reply


@pytest.mark.parametrize(("line", "reply", "wire"), REPLIES, ids=[r[0] for r in REPLIES])
def test_format_reply_is_what_the_manuals_show(line: str, reply: MtReply, wire: bytes) -> None:
    assert format_reply(reply) == wire
    assert parse_reply(wire) == reply


def test_quoted_fields_keep_their_quotes() -> None:
    reply = parse_reply('I4 A "B123456789"')
    assert isinstance(reply, InfoReply)
    assert isinstance(reply.fields[0], Text)
    plain = parse_reply("I15 A 123014")
    assert isinstance(plain, InfoReply)
    assert not isinstance(plain.fields[0], Text)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("", "empty"),
        ("   \r\n", "empty"),
        ("hello world", "command ID"),
        ("s s 100.00 g", "command ID"),
        ('"S" S 1 g', "command ID"),
        ("S", "no status"),
        ("S X 100.00 g", "no status"),
        ("S S 1,5 g", "plain decimal"),
        ("S S 1e3 g", "plain decimal"),
        ("S S abc g", "plain decimal"),
        ("S S 100.00", "<value> <unit>"),
        ("S S 100.00 g extra", "<value> <unit>"),
        ('S S 100.00 "g"', "<value> <unit>"),
        ("S S", "no value"),
        ("S D", "no value"),
        ("S + 12 g", "takes no fields"),
        ('I4 A "B1234', "unbalanced quote"),
        ("\x00\x01\x02", "command ID"),
        ("@ A", "command ID"),
    ],
)
def test_garbage_is_a_protocol_error(line: str, message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        parse_reply(line)


@pytest.mark.parametrize(
    ("line", "reading"),
    [
        ("S S     100.00 g\r\n", WeightReading(D("100.00"), "g", True)),
        ("S D 1.234 g", WeightReading(D("1.234"), "g", False)),
        ("SI D -0.002 g", WeightReading(D("-0.002"), "g", False)),
        ("S +", WeightReading(None, "", False, overload=True)),
        ("S -", WeightReading(None, "", False, underload=True)),
    ],
)
def test_parse_weight(line: str, reading: WeightReading) -> None:
    assert parse_weight(line) == reading


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("S I", "S I .*not executable"),
        ("ES", "ES .*syntax error"),
        ("EL", "EL .*logical error"),
        ("S S Error 12t", "hardware error 12t"),
        ('I4 A "B123456789"', "I4 A"),
        ("Z A", "Z A"),
    ],
)
def test_parse_weight_says_what_came_instead(line: str, message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        parse_weight(line)


def test_multiline_replies_mark_their_last_line() -> None:
    lines = ["M28 B 1 21.8", "M28 A 2 22.1"]
    replies = [parse_reply(line) for line in lines]
    assert [r.final for r in replies if isinstance(r, InfoReply)] == [False, True]
    cancel = [parse_reply("C B"), parse_reply("C A")]
    assert [r.final for r in cancel if isinstance(r, StatusReply)] == [False, True]


def test_balance_data_is_split_from_the_right() -> None:
    reply = parse_reply('I2 A "WXS205SDU WXA-Bridge 220.00900 g"')
    assert isinstance(reply, InfoReply)
    assert parse_balance_data(reply) == BalanceData("WXS205SDU WXA-Bridge", D("220.00900"), "g")


@pytest.mark.parametrize(
    "reply",
    [InfoReply("I4", "A", ("B1",)), InfoReply("I2", "A", ("220.0 g",)), InfoReply("I2", "A", ())],
)
def test_balance_data_rejects_other_replies(reply: InfoReply) -> None:
    with pytest.raises(ProtocolError, match="I2"):
        parse_balance_data(reply)


# --- host commands (the simulator's side) ---------------------------------------------------


@pytest.mark.parametrize(
    ("line", "command"),
    [
        ("SI\r\n", MtCommand("SI")),
        ("S", MtCommand("S")),
        ("SIR\n", MtCommand("SIR")),
        ("@\r\n", MtCommand("@")),
        ("I4\r", MtCommand("I4")),
        ("TA 100.00 g\r\n", MtCommand("TA", ("100.00", "g"))),
        ('D "Hallo"\r\n', MtCommand("D", ("Hallo",))),
        ('I10 "My Balance"', MtCommand("I10", ("My Balance",))),
        ("SC   500", MtCommand("SC", ("500",))),
        ("M28", MtCommand("M28")),
        ("TST0", MtCommand("TST0")),
    ],
)
def test_parse_command(line: str, command: MtCommand) -> None:
    assert parse_command(line) == command
    assert parse_command(format_command(command)) == command


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("si", "upper case"),
        ("Si", "upper case"),
        ("ta 100.00 g", "upper case"),
        ("", "empty"),
        ("1S", "not an MT-SICS command"),
        ('D "Hallo', "unbalanced quote"),
        ('"SI"', "not an MT-SICS command"),
        ("TOOLONG", "not an MT-SICS command"),
    ],
)
def test_parse_command_rejects_what_a_balance_answers_es_to(line: str, message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        parse_command(line)


@pytest.mark.parametrize(
    ("args", "wire"),
    [
        (("SI",), b"SI\r\n"),
        (("@",), b"@\r\n"),
        (("TA", D("100.00"), "g"), b"TA 100.00 g\r\n"),
        (("TA 100.00 g",), b"TA 100.00 g\r\n"),
        (("TA", D("1E+2"), "g"), b"TA 100 g\r\n"),
        (("SC", 500), b"SC 500\r\n"),
        (("D", Text("Hallo")), b'D "Hallo"\r\n'),
        (("D", "two words"), b'D "two words"\r\n'),
        (("D", ""), b'D ""\r\n'),
        (('D "Hallo"',), b'D "Hallo"\r\n'),
        ((MtCommand("TA", ("100.00", "g")),), b"TA 100.00 g\r\n"),
    ],
)
def test_format_command(args: tuple[str | int | Decimal | MtCommand, ...], wire: bytes) -> None:
    command, *params = args
    assert format_command(command, *params) == wire  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("command", "params", "message"),
    [
        ("si", (), "upper case"),
        ("D", ('say "hi"',), "quotes"),
        ("D", ("a\r\nSI",), "line breaks"),
        ("TA", (D("NaN"),), "non-finite"),
        (MtCommand("bad"), (), "not an MT-SICS command"),
    ],
)
def test_format_command_refuses_what_a_balance_would_not_understand(
    command: str | MtCommand, params: tuple[str | Decimal, ...], message: str
) -> None:
    with pytest.raises(ProtocolError, match=message):
        format_command(command, *params)


def test_format_command_takes_params_in_one_place_only() -> None:
    with pytest.raises(TypeError, match="not both"):
        format_command(MtCommand("TA"), "100.00", "g")


@pytest.mark.parametrize(
    "reply",
    [
        WeightReply("S", "S", D("1"), "two words"),
        WeightReply("S", "S", D("1"), ""),
        WeightReply("s", "S", D("1"), "g"),
        StatusReply("S", "Q"),
        HardwareErrorReply("S", "S", 12, "x"),
        ErrorReply("EX"),
    ],
)
def test_format_reply_refuses_malformed_replies(reply: MtReply) -> None:
    with pytest.raises(ProtocolError):
        format_reply(reply)


# --- property: format → parse is the identity, at any readability -----------------------------

readabilities = st.sampled_from(["1", "0.1", "0.01", "0.001", "0.0001", "0.00001", "0.05"])
values = st.decimals(min_value=-99999, max_value=99999, allow_nan=False, allow_infinity=False)


@given(
    value=values,
    readability=readabilities,
    unit=st.sampled_from(["g", "mg", "kg", "ct"]),
    status=st.sampled_from(["S", "D"]),
    command=st.sampled_from(["S", "SI", "SIR"]),
)
def test_weight_reply_round_trip(
    value: Decimal, readability: str, unit: str, status: str, command: str
) -> None:
    shown = quantize(value, readability)
    wire = format_reply(WeightReply(command, status, shown, unit))
    reply = parse_reply(wire)
    assert reply == WeightReply(command, status, shown, unit)
    assert isinstance(reply, WeightReply)
    assert str(reply.value) == str(shown)
    number = wire.split()[2].decode()
    assert len(number.partition(".")[2]) == decimals_for(readability)
    if len(number) <= 10:
        assert wire.index(b" " + unit.encode()) == len(command) + 3 + 10


_field = st.text(st.characters(min_codepoint=33, max_codepoint=126, exclude_characters='"'))


@given(
    command=st.from_regex(r"[A-Z][A-Z0-9]{0,3}", fullmatch=True).filter(
        lambda c: c not in WEIGHT_COMMANDS
    ),
    status=st.sampled_from(["A", "B"]),
    fields=st.lists(
        st.one_of(_field.filter(bool), _field.map(lambda s: Text(f"{s} x"))), max_size=4
    ),
)
def test_info_reply_round_trip(command: str, status: str, fields: list[str]) -> None:
    reply = InfoReply(command, status, tuple(fields))
    if not fields:
        assert parse_reply(format_reply(reply)) == StatusReply(command, status)
        return
    parsed = parse_reply(format_reply(reply))
    assert parsed == reply
    assert isinstance(parsed, InfoReply)
    assert [isinstance(f, Text) for f in parsed.fields] == [isinstance(f, Text) for f in fields]
