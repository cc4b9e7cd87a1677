"""LineSplitter and decode_line: terminators, chunking, bounded buffer."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from labcal_shared.protocols import LineSplitter, decode_line


@pytest.mark.parametrize(
    ("data", "lines"),
    [
        (b"S S     100.00 g\r\n", [b"S S     100.00 g"]),
        (b"S S 1 g\rS D 2 g\r", [b"S S 1 g", b"S D 2 g"]),
        (b"ES\nEL\n", [b"ES", b"EL"]),
        (b"A\r\nB\nC\rD", [b"A", b"B", b"C"]),
        (b"\r\n\r\n\n\rA\r\n", [b"A"]),
        (b"no terminator yet", []),
    ],
)
def test_splits_on_cr_lf_and_crlf(data: bytes, lines: list[bytes]) -> None:
    assert list(LineSplitter().feed(data).lines) == lines


def test_crlf_split_across_reads_is_one_terminator() -> None:
    splitter = LineSplitter()
    assert splitter.feed(b"S S 1 g\r").lines == (b"S S 1 g",)
    assert splitter.feed(b"\nS S 2 g\r").lines == (b"S S 2 g",)
    assert splitter.pending == b""


def test_partial_line_is_kept_until_its_terminator() -> None:
    splitter = LineSplitter()
    assert splitter.feed(b'I4 A "B12').lines == ()
    assert splitter.pending == b'I4 A "B12'
    assert splitter.feed(b'3"\r\n').lines == (b'I4 A "B123"',)


def test_overlong_garbage_is_dropped_reported_and_resynchronised() -> None:
    splitter = LineSplitter(max_line=8)
    result = splitter.feed(b"\xff" * 20 + b"\r\nES\r\n")
    assert result.lines == (b"ES",)
    assert result.dropped == 20
    assert splitter.dropped_total == 20


def test_overlong_line_spanning_reads_is_dropped_until_terminator() -> None:
    splitter = LineSplitter(max_line=4)
    assert splitter.feed(b"abcdefg").dropped == 7
    second = splitter.feed(b"hij\nZ A\n")
    assert second.lines == (b"Z A",)
    assert second.dropped == 3
    assert splitter.dropped_total == 10


def test_line_of_exactly_max_line_is_kept() -> None:
    assert LineSplitter(max_line=4).feed(b"abcd\n").lines == (b"abcd",)


def test_reset_forgets_partial_line() -> None:
    splitter = LineSplitter()
    splitter.feed(b"stale")
    splitter.reset()
    assert splitter.feed(b"S S 1 g\n").lines == (b"S S 1 g",)


def test_max_line_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_line"):
        LineSplitter(max_line=0)


@pytest.mark.parametrize(
    ("line", "text"),
    [(b"ES\r\n", "ES"), ("ES\r", "ES"), (b"ES\n", "ES"), (b"+  1.0 g  \r\n", "+  1.0 g  ")],
)
def test_decode_line_strips_only_terminators(line: str | bytes, text: str) -> None:
    assert decode_line(line) == text


_line = st.binary(max_size=30).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"")).filter(bool)


@given(
    lines=st.lists(_line, max_size=8),
    eol=st.sampled_from([b"\r", b"\n", b"\r\n"]),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=6),
)
def test_any_chunking_yields_the_same_lines(
    lines: list[bytes], eol: bytes, cuts: list[int]
) -> None:
    stream = b"".join(line + eol for line in lines)
    splitter = LineSplitter()
    out: list[bytes] = []
    start = 0
    for cut in [*sorted(cuts), len(stream)]:
        out.extend(splitter.feed(stream[start : max(start, cut)]).lines)
        start = max(start, cut)
    assert out == lines
