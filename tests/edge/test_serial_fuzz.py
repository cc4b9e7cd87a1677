"""Serial fuzz of every balance, pipette, scanner and sensor driver (see ``serial_fuzz.py``).

CI size: ``LABCAL_FUZZ_LINES`` lines per driver (default 3,000, well under a second each). The
issue's size, over a million lines in total (7 drivers x 150,000):

    LABCAL_FUZZ_LINES=150000 .venv/bin/python -m pytest tests/edge/test_serial_fuzz.py -q -s

``LABCAL_FUZZ_SEED`` picks the seed (default: a new one, printed, so a failure can be replayed).
The pty tests run the real pyserial link on a real pseudo-terminal.
"""

from __future__ import annotations

import logging
import os
import pty
import random
import threading
import time
import tty
from collections.abc import Iterator

import pytest

from labcal_edge.config import BalanceConfig
from labcal_edge.drivers.balance import BalanceDriver
from labcal_edge.drivers.garbage import GarbageLog
from labcal_edge.drivers.link import PySerialLink
from labcal_edge.errors import DeviceTimeoutError
from labcal_shared.errors import ProtocolError
from labcal_shared.protocols import Dialect, LineSplitter, mtsics

from .serial_fuzz import DOCUMENTED_ERRORS, MT_LINES, TARGETS, FuzzResult, Target, fuzz, fuzz_line

LINES = int(os.environ.get("LABCAL_FUZZ_LINES", "3000"))
SEED = int(os.environ.get("LABCAL_FUZZ_SEED", str(random.SystemRandom().randrange(10**9))))
_results: list[FuzzResult] = []


@pytest.fixture(autouse=True)
def _quiet_garbage_log() -> Iterator[None]:
    """The drivers log a garbage episode once; a million episodes are not worth printing."""
    logger = logging.getLogger("labcal_edge.drivers")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)


@pytest.mark.parametrize("target", TARGETS, ids=[t.name for t in TARGETS])
def test_fuzzed_lines_do_not_crash_or_hang_and_garbage_is_counted(target: Target) -> None:
    result = fuzz(target, LINES, SEED)
    _results.append(result)
    print(
        f"\n  fuzz {result.target:16} seed {SEED}: {result.lines:,} lines, {result.calls:,} calls,"
        f" {result.garbage:,} garbage lines counted, {result.dropped_bytes:,} bytes of over-long"
        f" lines dropped, {result.seconds:.2f} s; errors {result.errors}"
    )
    assert result.lines >= LINES
    assert result.dropped_bytes > 0
    if target.rejects is not None:
        assert result.garbage > 0


def test_fuzz_summary() -> None:
    if not _results:
        pytest.skip("no fuzz target ran in this session")
    lines = sum(r.lines for r in _results)
    garbage = sum(r.garbage for r in _results)
    seconds = sum(r.seconds for r in _results)
    print(
        f"\n  fuzz total, seed {SEED}: {lines:,} lines against {len(_results)} drivers in "
        f"{seconds:.1f} s; {garbage:,} garbage lines counted; no crash, no hang"
    )


# -- the real link on a real pty --------------------------------------------------------------


def _pty() -> tuple[int, str]:
    master, slave = pty.openpty()
    tty.setraw(slave)
    path = os.ttyname(slave)
    os.close(slave)
    return master, path


def test_read_line_is_bounded_while_bytes_without_a_line_end_keep_coming() -> None:
    master, path = _pty()
    stop = threading.Event()

    def noise() -> None:  # a wrong baud rate: bytes forever, never a CR or LF
        while not stop.is_set():
            try:
                os.write(master, b"\xaa\x55" * 64)
            except OSError:
                return
            time.sleep(0.002)

    link = PySerialLink(BalanceConfig(name="noisy", port=path))
    link.open()  # before the noise: a pty master without an open slave fails with EIO
    thread = threading.Thread(target=noise, daemon=True)
    thread.start()
    try:
        started = time.monotonic()
        assert link.read_line(0.5) is None
        assert time.monotonic() - started < 2.0
        assert link.dropped_bytes > 0
    finally:
        stop.set()
        thread.join(timeout=2)
        link.close()
        os.close(master)


def test_fuzzed_answers_over_a_real_pty() -> None:
    """A device thread answers each weight command with fuzzed lines, then a valid weight."""
    master, path = _pty()
    rng = random.Random(SEED)
    sent: list[bytes] = []
    stop = threading.Event()

    def device() -> None:
        splitter = LineSplitter()
        while not stop.is_set():
            try:
                data = os.read(master, 1024)
            except OSError:
                return
            for _ in splitter.feed(data).lines:
                burst = b"".join(
                    fuzz_line(rng, MT_LINES) + rng.choice([b"\r\n", b"\r", b"\n"])
                    for _ in range(rng.randint(0, 3))
                )
                burst += b"S S     100.00 g\r\n"
                sent.append(burst)
                os.write(master, burst)

    link = PySerialLink(BalanceConfig(name="pty", port=path))
    balance = BalanceDriver(link, GarbageLog("pty"), Dialect.MT_SICS, timeout_s=0.5)
    link.open()  # before the device reads: a pty master without an open slave reads EIO
    thread = threading.Thread(target=device, daemon=True)
    thread.start()
    readings = timeouts = 0
    try:
        for _ in range(40):
            started = time.monotonic()
            try:
                balance.weigh(stable=False)
                readings += 1
            except DeviceTimeoutError:
                timeouts += 1  # a fuzzed fragment without line end swallowed the valid line
            except DOCUMENTED_ERRORS:
                pass  # a fuzzed line that is a valid error answer (ES, S S Error 12t)
            assert time.monotonic() - started < 1.5
    finally:
        stop.set()
        link.close()
        os.close(master)
        thread.join(timeout=2)
    expected = sum(_garbage_until_answered(burst) for burst in sent)
    assert readings >= 20, (readings, timeouts, len(sent))
    assert balance.garbage.total == expected, (SEED, sent)


def _garbage_until_answered(burst: bytes) -> int:
    """The garbage lines the driver reads from ``burst`` before an answer to ``SI`` ends it."""
    garbage = 0
    for line in LineSplitter().feed(burst).lines:
        try:
            reply = mtsics.parse_reply(line)
        except ProtocolError:
            garbage += 1
            continue
        final = isinstance(
            reply, mtsics.WeightReply | mtsics.ErrorReply | mtsics.HardwareErrorReply
        ) or (isinstance(reply, mtsics.StatusReply) and reply.status in ("+", "-", "I"))
        if final and mtsics.reply_answers("SI", reply):
            break
    return garbage
