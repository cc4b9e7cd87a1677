"""Every line codec, fed random bytes and mutated valid lines: a result or a ProtocolError only.

Hypothesis shrinks a failing line to a small one. The drivers on top are fuzzed in
``tests/edge/test_serial_fuzz.py``; this is the codecs' own contract.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labcal_shared.errors import ProtocolError
from labcal_shared.protocols import LineSplitter, WeightReading, aandd, mtsics, sbi
from labcal_shared.protocols import pipette as pip
from labcal_shared.protocols import scanner as scan
from labcal_shared.protocols.sensor import conditions_from

VALID = [
    b"S S     100.00 g",
    b"SI D      12.35 kg",
    b'I2 A "XS205 Excellence 220.0 g"',
    b"S S Error 12t",
    b"ST,+00123.45  g",
    b"OL,+9999999E+19",
    b"+  123.56 g  ",
    b"N     +    5.5 g  ",
    b"SerNo.    0031801165",
    b"ID OK make=LabCal model=LP1000 serial=P-1 fw=1.2 channels=1",
    b"CNT OK total=1200 service=30",
    b"VOL OK nominal=1000 set=500 min=100 unit=uL",
    b"MEAS OK t=21.52 tw=21.31 p=101.32 rh=45.1",
    b"EVT seq=7 kind=DROP g=3.1",
    b"LC1|Acme|P1000|SN-1",
]


@st.composite
def lines(draw: st.DrawFn) -> bytes:
    if draw(st.booleans()):
        return draw(st.binary(max_size=300))
    data = bytearray(draw(st.sampled_from(VALID)))
    for pos, byte, op in draw(
        st.lists(st.tuples(st.integers(0, 80), st.integers(0, 255), st.integers(0, 2)), max_size=5)
    ):
        pos = min(pos, len(data))
        if op == 0:
            data.insert(pos, byte)
        elif data:
            if op == 1:
                data[min(pos, len(data) - 1)] = byte
            else:
                del data[min(pos, len(data) - 1)]
    return bytes(data)


def _pipette_values(line: bytes) -> object:
    reply = pip.parse_line(line)
    for convert in (pip.identity_from, pip.volume_from, pip.counters_from, conditions_from):
        with contextlib.suppress(ProtocolError):
            convert(reply)
    return reply


PARSERS: dict[str, Callable[[bytes], object]] = {
    "mtsics.parse_reply": mtsics.parse_reply,
    "mtsics.parse_command": mtsics.parse_command,
    "mtsics.parse_weight": mtsics.parse_weight,
    "aandd.parse_line": aandd.parse_line,
    "sbi.parse_line": sbi.parse_line,
    "sbi.parse_command": sbi.parse_command,
    "pipette.parse_line + values": _pipette_values,
    "scanner.parse_scan + label": lambda ln: scan.parse_label(scan.parse_scan(ln)),
}


@pytest.mark.parametrize("name", sorted(PARSERS))
@settings(max_examples=400, deadline=None)
@given(line=lines())
def test_a_codec_answers_a_value_or_a_protocol_error(name: str, line: bytes) -> None:
    try:
        value = PARSERS[name](line)
    except ProtocolError:
        return
    if isinstance(value, WeightReading) and value.value is not None:
        assert isinstance(value.value, Decimal)
        assert value.value.is_finite()


@settings(max_examples=300, deadline=None)
@given(chunks=st.lists(st.binary(max_size=400), max_size=20))
def test_the_line_splitter_stays_bounded(chunks: list[bytes]) -> None:
    splitter = LineSplitter(max_line=256)
    for chunk in chunks:
        for line in splitter.feed(chunk).lines:
            assert 0 < len(line) <= 256
            assert b"\r" not in line
            assert b"\n" not in line
        assert len(splitter.pending) <= 256


@pytest.mark.parametrize(
    ("line", "convert"),
    [
        (b"MEAS OK t=21.52 tw=21.31 p=101.32 rh=inf", conditions_from),
        (b"MEAS OK t=nan tw=21.31 p=101.32 rh=45.1", conditions_from),
        (b"MEAS OK t=21.5 tw=1e999 p=101.32 rh=45.1", conditions_from),
        (b"VOL OK nominal=nan set=500 min=100 unit=uL", pip.volume_from),
        (b"VOL OK nominal=1000 set=-inf min=100 unit=uL", pip.volume_from),
        (b"CNT OK total=-5 service=30", pip.counters_from),
        (b"CNT OK total=1200 service=" + b"9" * 40, pip.counters_from),
    ],
)
def test_line_protocol_values_outside_the_contracts_are_protocol_errors(
    line: bytes, convert: Callable[[pip.PipetteLine], object]
) -> None:
    with pytest.raises(ProtocolError):
        convert(pip.parse_line(line))
