"""MT-SICS lines as third-party balances send them, captured from mt-sics-emulator 0.1.1.

The emulator answers ``SI`` under its own ID (``SI S …``), answers ``S`` at once with ``S D …``
while the load settles, and puts the serial number (not type, capacity and unit) in ``I2``. The
codec must read all of them; which reply answers which command is :func:`mtsics.reply_answers`.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from labcal_shared.errors import ProtocolError
from labcal_shared.protocols import WeightReading, mtsics
from labcal_shared.protocols.mtsics import (
    ErrorReply,
    InfoReply,
    MtReply,
    StatusReply,
    WeightReply,
)

# (captured line, parsed reply) — mt-sics-emulator 0.1.1, profiles mt-xs204 and ohaus-defender5000
CAPTURED: list[tuple[bytes, MtReply]] = [
    (b"SI S     0.0000 g\r\n", WeightReply("SI", "S", Decimal("0.0000"), "g")),
    (b"SI D    12.3457 g\r\n", WeightReply("SI", "D", Decimal("12.3457"), "g")),
    (b"S D    12.3457 g\r\n", WeightReply("S", "D", Decimal("12.3457"), "g")),
    (b"S S     0.0000 g\r\n", WeightReply("S", "S", Decimal("0.0000"), "g")),
    (b"SI D      12.35 kg\r\n", WeightReply("SI", "D", Decimal("12.35"), "kg")),
    (b"TI D    12.3457 g\r\n", WeightReply("TI", "D", Decimal("12.3457"), "g")),
    (b"SI +\r\n", StatusReply("SI", "+")),
    (b"SI -\r\n", StatusReply("SI", "-")),
    (b"S +\r\n", StatusReply("S", "+")),
    (b"T I\r\n", StatusReply("T", "I")),
    (b"Z -\r\n", StatusReply("Z", "-")),
    (b"ZI A\r\n", StatusReply("ZI", "A")),
    (b"TAC A\r\n", StatusReply("TAC", "A")),
    (b'I1 A "XS204"\r\n', InfoReply("I1", "A", ("XS204",))),
    (b'I2 A "B246813579"\r\n', InfoReply("I2", "A", ("B246813579",))),
    (b'I4 A "B246813579"\r\n', InfoReply("I4", "A", ("B246813579",))),
    (
        b'I0 A "XS204" "B246813579" "2.30" "220.0 g" "0.0001 g"\r\n',
        InfoReply("I0", "A", ("XS204", "B246813579", "2.30", "220.0 g", "0.0001 g")),
    ),
    (b"ES\r\n", ErrorReply("ES")),
]


@pytest.mark.parametrize(("line", "reply"), CAPTURED, ids=[c[0].decode() for c in CAPTURED])
def test_captured_third_party_lines_parse(line: bytes, reply: MtReply) -> None:
    assert mtsics.parse_reply(line) == reply


# (command sent, captured answer, does it answer the command?)
ANSWERS: list[tuple[str, bytes, bool]] = [
    ("SI", b"SI S     0.0000 g", True),  # third-party: the command's own ID
    ("SI", b"S S     0.0000 g", True),  # the manuals: SI is answered with S
    ("SI", b"SI D    12.3457 g", True),
    ("SI", b"SI +", True),
    ("SI", b"ES", True),
    ("S", b"S D    12.3457 g", True),  # answers S, but is not stable: the driver asks again
    ("S", b"S S     0.0000 g", True),
    ("S", b"SI S     0.0000 g", False),  # a late answer to an earlier SI
    ("S", b"TI D    12.3457 g", False),
    ("SIR", b"S D    12.3457 g", True),
    ("I2", b'I2 A "B246813579"', True),
    ("I2", b'I4 A "B246813579"', False),  # the @ broadcast, not the I2 answer
    ("T", b"T I", True),
    ("Z", b"ZI A", False),
]


@pytest.mark.parametrize(("command", "line", "answers"), ANSWERS)
def test_reply_answers_matches_replies_to_commands(
    command: str, line: bytes, answers: bool
) -> None:
    assert mtsics.reply_answers(command, mtsics.parse_reply(line)) is answers


@pytest.mark.parametrize(
    ("line", "reading"),
    [
        (b"SI S     0.0000 g", WeightReading(Decimal("0.0000"), "g", True)),
        (b"SI D    12.3457 g", WeightReading(Decimal("12.3457"), "g", False)),
        (b"S D    12.3457 g", WeightReading(Decimal("12.3457"), "g", False)),
        (b"SI +", WeightReading(None, "", False, overload=True)),
        (b"SI -", WeightReading(None, "", False, underload=True)),
    ],
)
def test_third_party_weight_lines_keep_their_stability(line: bytes, reading: WeightReading) -> None:
    assert mtsics.parse_weight(line) == reading


def test_a_serial_number_in_i2_is_not_balance_data() -> None:
    reply = mtsics.parse_reply(b'I2 A "B246813579"')
    assert isinstance(reply, InfoReply)
    with pytest.raises(ProtocolError, match="expected '<type> <capacity> <unit>'"):
        mtsics.parse_balance_data(reply)
