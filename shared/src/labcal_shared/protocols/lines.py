"""Incremental line splitting shared by every dialect, and line decoding.

:class:`LineSplitter` is pure state: a transport feeds it whatever bytes the serial port returned
and gets back complete lines. It accepts ``CR``, ``LF`` and ``CR LF`` terminators (MT NewClassic
lets the user pick any of them [MT3]; the agent must not hard-code ``CR LF``), also when a ``CR LF``
pair is split across two reads. Empty lines carry no information in any of our dialects and are
not returned. The buffer is bounded: a run of bytes longer than ``max_line`` without a terminator
is garbage (wrong baud rate, binary noise); it is dropped, counted and reported, and the splitter
resynchronises on the next terminator.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_MAX_LINE", "LineSplitter", "SplitResult", "decode_line"]

DEFAULT_MAX_LINE = 256
_CR = 0x0D
_LF = 0x0A


@dataclass(frozen=True, slots=True)
class SplitResult:
    """What one :meth:`LineSplitter.feed` produced.

    ``lines`` are complete lines without their terminator; ``dropped`` counts the garbage bytes
    discarded during this call because a line grew beyond the limit.
    """

    lines: tuple[bytes, ...]
    dropped: int = 0


class LineSplitter:
    """Split a byte stream into lines; see the module docstring."""

    def __init__(self, max_line: int = DEFAULT_MAX_LINE) -> None:
        if max_line < 1:
            raise ValueError(f"max_line must be at least 1, got {max_line}")
        self._max_line = max_line
        self._buffer = bytearray()
        self._after_cr = False  # the previous byte was CR: a LF now completes CR LF, not a line
        self._discarding = False  # inside an over-long line: drop bytes up to the next terminator
        self.dropped_total = 0

    @property
    def pending(self) -> bytes:
        """Bytes received after the last terminator (an incomplete line)."""
        return bytes(self._buffer)

    def feed(self, data: bytes) -> SplitResult:
        """Consume ``data``; return the lines it completed and the garbage it dropped."""
        lines: list[bytes] = []
        dropped = 0
        for byte in data:
            if byte in (_CR, _LF):
                if not (byte == _LF and self._after_cr):
                    if self._buffer:
                        lines.append(bytes(self._buffer))
                    self._buffer.clear()
                    self._discarding = False
                self._after_cr = byte == _CR
                continue
            self._after_cr = False
            if self._discarding:
                dropped += 1
            elif len(self._buffer) >= self._max_line:
                dropped += len(self._buffer) + 1
                self._buffer.clear()
                self._discarding = True
            else:
                self._buffer.append(byte)
        self.dropped_total += dropped
        return SplitResult(tuple(lines), dropped)

    def reset(self) -> None:
        """Forget any partial line (e.g. after flushing the port before a command)."""
        self._buffer.clear()
        self._after_cr = False
        self._discarding = False


def decode_line(line: str | bytes) -> str:
    """Text of one line, with any trailing ``CR``/``LF`` removed.

    Bytes are decoded as Latin-1, which never fails, so a non-ASCII byte reaches the codec and is
    reported there with the whole line rather than as a decoding error.
    """
    text = line.decode("latin-1") if isinstance(line, bytes) else line
    return text.rstrip("\r\n")
