"""The LabCal pipette/sensor/scanner codecs (labcal_shared.protocols.pipette, sensor, scanner)."""

from __future__ import annotations

import pytest

from labcal_shared.errors import ProtocolError
from labcal_shared.protocols import pipette as p
from labcal_shared.protocols.scanner import (
    DeviceLabel,
    format_label,
    format_scan,
    parse_label,
    parse_scan,
)
from labcal_shared.protocols.sensor import Conditions, conditions_from, format_conditions

REPLIES = [
    p.OkReply(
        "ID",
        {
            "make": "LabCal",
            "model": "LP-1000",
            "serial": "LP1000-0001",
            "fw": "1.4.2",
            "channels": "1",
        },
    ),
    p.OkReply("VOL", {"nominal": "1000", "set": "500", "min": "100", "unit": "uL"}),
    p.OkReply("CNT", {"total": "48213", "service": "1312"}),
    p.OkReply("ID", {"make": "Acme Lab Tools", "model": "X"}),  # value with spaces is quoted
    p.ErrorReply("VOL", "RANGE", "volume 5000 outside 100-1000 uL"),
    p.ErrorReply("ERR", "SYNTAX", "commands are upper case"),
]


@pytest.mark.parametrize("reply", REPLIES, ids=repr)
def test_replies_round_trip(reply):
    line = p.format_reply(reply)
    assert line.endswith(b"\r\n")
    parsed = p.parse_line(line)
    assert parsed == reply or (
        isinstance(parsed, p.OkReply) and dict(parsed.fields) == dict(reply.fields)  # type: ignore[union-attr]
    )


def test_exact_wire_forms():
    assert p.format_reply(REPLIES[1]) == b"VOL OK nominal=1000 set=500 min=100 unit=uL\r\n"
    assert p.format_reply(REPLIES[3]) == b'ID OK make="Acme Lab Tools" model=X\r\n'
    assert p.format_reply(REPLIES[4]) == b'VOL ERR RANGE "volume 5000 outside 100-1000 uL"\r\n'
    assert (
        p.format_event(p.Event(17, "DROP", {"cycle": "5"})) == b"EVT seq=17 kind=DROP cycle=5\r\n"
    )
    assert p.format_command("VOL", 500) == b"VOL 500\r\n"
    assert p.format_command("SRV", "RESET") == b"SRV RESET\r\n"


def test_typed_views():
    assert p.identity_from(p.parse_line(p.format_reply(REPLIES[0]))) == p.Identity(
        "LabCal", "LP-1000", "LP1000-0001", "1.4.2", 1
    )
    assert p.volume_from(REPLIES[1]) == p.Volume(1000.0, 500.0, 100.0)
    assert p.counters_from(REPLIES[2]) == p.Counters(48213, 1312)
    with pytest.raises(ProtocolError, match="expected a VOL OK reply"):
        p.volume_from(REPLIES[2])


def test_events_parse():
    event = p.parse_line(b"EVT seq=3 kind=BATTERY level=9\r")
    assert event == p.Event(3, "BATTERY", {"level": "9"})


@pytest.mark.parametrize(
    "line",
    [
        b"",
        b"hello",
        b"VOL MAYBE",
        b"VOL OK nominal",  # not key=value
        b"VOL OK a=1 a=2",  # duplicate field
        b"EVT kind=DROP",  # no seq
        b"EVT seq=0 kind=DROP",
        b"EVT seq=1 kind=EXPLODED",
        b'VOL ERR NOPE "x"',
        b'ID OK make="unterminated',
        b"ID OK make=\xff",
    ],
)
def test_bad_device_lines_are_refused(line):
    with pytest.raises(ProtocolError):
        p.parse_line(line)


@pytest.mark.parametrize("line", [b"vol 500", b"", b'"VOL"', b"VOL\x01"])
def test_bad_commands_are_refused(line):
    with pytest.raises(ProtocolError):
        p.parse_command(line)


def test_commands_parse_with_any_whitespace_and_line_end():
    assert p.parse_command(b"VOL   500\n") == p.Command("VOL", ("500",))


def test_formatting_refuses_what_cannot_be_sent():
    with pytest.raises(ProtocolError):
        p.format_reply(p.OkReply("ID", {"make": 'say "hi"'}))
    with pytest.raises(ProtocolError):
        p.format_reply(p.ErrorReply("VOL", "WHATEVER", ""))
    with pytest.raises(ProtocolError):
        p.format_command("vol")
    with pytest.raises(ProtocolError):
        p.format_command("VOL", "5 00")


def test_sensor_conditions_round_trip():
    line = format_conditions(Conditions(21.516, 21.3, 101.325, 45.06))
    assert line == b"MEAS OK t=21.52 tw=21.30 p=101.33 rh=45.1\r\n"
    assert conditions_from(p.parse_line(line)) == Conditions(21.52, 21.3, 101.33, 45.1)
    with pytest.raises(ProtocolError):
        conditions_from(p.parse_line(b"MEAS OK t=warm tw=1 p=1 rh=1"))


def test_scanner_lines_and_labels():
    label = DeviceLabel("LabCal", "LP-1000", "LP1000-0001")
    code = format_label(label)
    assert code == "LC1|LabCal|LP-1000|LP1000-0001"
    assert format_scan(code) == b"LC1|LabCal|LP-1000|LP1000-0001\r\n"
    assert parse_label(parse_scan(b" LC1|LabCal|LP-1000|LP1000-0001\r")) == label
    assert parse_label("4006381333931") is None
    for bad in (b"", b"\x00\x01", b"x" * 201):
        with pytest.raises(ProtocolError):
            parse_scan(bad)
    with pytest.raises(ProtocolError):
        parse_label("LC1|LabCal|LP-1000")


def test_general_error_has_no_command_word():
    line = p.format_reply(p.ErrorReply("ERR", "UNKNOWN", "no command FLY"))
    assert line == b'ERR UNKNOWN "no command FLY"\r\n'
    assert p.parse_line(line) == p.ErrorReply("ERR", "UNKNOWN", "no command FLY")
