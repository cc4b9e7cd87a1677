"""Serial fuzzing of every edge device driver: random and mutated lines as device answers.

A :class:`FuzzLink` is the driver's serial port (the :class:`~labcal_edge.drivers.link.SerialLink`
port) in memory: every command the driver writes is answered with a few fuzzed lines, cut by the
real :class:`~labcal_shared.protocols.LineSplitter`; a silent port answers "timeout" at once, so a
million lines run in minutes. Lines are valid device lines (formatted by the codecs, or captured
from mt-sics-emulator), those mutated (bytes flipped, inserted, deleted, tokens duplicated or
swapped, numbers made extreme), lines of the other protocols, random bytes, over-long lines.

Per driver call the properties are: only the documented errors (:class:`EdgeError`,
:class:`ProtocolError`), a bounded number of reads and bounded wall time (no hang), returned values
that the contracts accept (finite numbers, counters >= 0), and every consumed line that the
device's codec rejects counted once by the driver's :class:`GarbageLog`.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from labcal_edge.drivers.balance import BalanceDriver
from labcal_edge.drivers.garbage import GarbageLog
from labcal_edge.drivers.pipette import PipetteDriver
from labcal_edge.drivers.scanner import ScannerDriver
from labcal_edge.drivers.sensor import SensorDriver
from labcal_edge.errors import EdgeError
from labcal_shared.errors import ProtocolError
from labcal_shared.protocols import Dialect, LineSplitter, WeightReading, aandd, mtsics, sbi
from labcal_shared.protocols import pipette as pip
from labcal_shared.protocols import scanner as scan
from labcal_shared.protocols.sensor import Conditions

DOCUMENTED_ERRORS = (EdgeError, ProtocolError)
MAX_READS_PER_CALL = 10_000
MAX_SECONDS_PER_CALL = 1.0

W = WeightReading
D = Decimal
MT_LINES = [
    mtsics.format_reply(mtsics.WeightReply("S", "S", D("100.00"), "g")),
    mtsics.format_reply(mtsics.WeightReply("S", "D", D("-0.0012"), "g")),
    mtsics.format_reply(mtsics.WeightReply("T", "S", D("12.5"), "mg")),
    mtsics.format_reply(mtsics.HardwareErrorReply("S", "S", 12, "t")),
    mtsics.format_reply(mtsics.StatusReply("S", "I")),
    mtsics.format_reply(mtsics.StatusReply("S", "+")),
    mtsics.format_reply(mtsics.StatusReply("Z", "A")),
    mtsics.format_reply(mtsics.InfoReply("I2", "A", (mtsics.Text("XS205 Excellence 220.0 g"),))),
    mtsics.format_reply(mtsics.InfoReply("I4", "A", (mtsics.Text("B123456789"),))),
    mtsics.format_reply(mtsics.ErrorReply("ES")),
    # captured from mt-sics-emulator 0.1.1
    b"SI S     0.0000 g\r\n",
    b"SI D      12.35 kg\r\n",
    b"SI +\r\n",
    b'I2 A "B246813579"\r\n',
    b'I0 A "XS204" "B246813579" "2.30" "220.0 g" "0.0001 g"\r\n',
]
AND_LINES = [
    aandd.format_weight(W(D("123.45"), "g", True)),
    aandd.format_weight(W(D("-1.2"), "mg", False)),
    aandd.format_weight(W(None, "", False, overload=True)),
    aandd.format_weight(W(D("7"), "pcs", True), header="QT"),
    aandd.format_info("TN", "FX-300i"),
    aandd.format_info("SN", "01234567"),
    b"\x06\r\n",
]
SBI_LINES = [
    sbi.format_weight(W(D("123.56"), "g", True)),
    sbi.format_weight(W(D("-0.001"), "g", False)),
    sbi.format_weight(W(D("5.5"), "g", True), id_code="N"),
    sbi.format_weight(W(None, "", False, underload=True)),
    sbi.format_error(12),
    sbi.format_status("Cal.Int."),
    sbi.format_text_line("SerNo.", "0031801165"),
    sbi.format_text_line("Model", "MSE1203S"),
]
PIPETTE_LINES = [
    pip.format_reply(
        pip.OkReply(
            "ID",
            {"make": "LabCal", "model": "LP1000", "serial": "P-1", "fw": "1.2", "channels": "1"},
        )
    ),
    pip.format_reply(pip.OkReply("CNT", {"total": "1200", "service": "30"})),
    pip.format_reply(
        pip.OkReply("VOL", {"nominal": "1000", "set": "500", "min": "100", "unit": "uL"})
    ),
    pip.format_reply(pip.OkReply("DISPENSE", {})),
    pip.format_reply(pip.ErrorReply("VOL", "RANGE", "volume 5000 outside 100-1000 uL")),
    pip.format_event(pip.Event(7, "DROP", {"g": "3.1"})),
    pip.format_event(pip.Event(9, "SERVICE", {})),
    pip.format_reply(pip.OkReply("EVENTS", {"count": "2"})),
]
SENSOR_LINES = [
    pip.format_reply(
        pip.OkReply("MEAS", {"t": "21.52", "tw": "21.31", "p": "101.32", "rh": "45.1"})
    ),
    pip.format_reply(pip.OkReply("ID", {"model": "ENV-1", "serial": "E-7"})),
    pip.format_reply(pip.ErrorReply("MEAS", "BUSY", "warming up")),
]
SCANNER_LINES = [
    scan.format_scan(scan.format_label(scan.DeviceLabel("Acme", "P1000", "SN-1"))),
    scan.format_scan("4006381333931"),
    b"LC1|Acme||SN-1\r\n",
]
ALL_LINES = MT_LINES + AND_LINES + SBI_LINES + PIPETTE_LINES + SENSOR_LINES + SCANNER_LINES
_EXTREMES = [b"1e999", b"nan", b"inf", b"-0", b"9" * 40, b"0." + b"0" * 30 + b"1", b"-", b"."]
_TERMINATORS = [b"\r\n", b"\r\n", b"\r\n", b"\r", b"\n", b""]


def mutate(rng: random.Random, line: bytes) -> bytes:
    """One to four random edits of ``line`` (without its terminator)."""
    data = bytearray(line.rstrip(b"\r\n"))
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(7)
        pos = rng.randrange(len(data) + 1)
        if op == 0 and data:
            data[min(pos, len(data) - 1)] = rng.randrange(256)
        elif op == 1:
            data.insert(pos, rng.randrange(256))
        elif op == 2 and data:
            del data[min(pos, len(data) - 1)]
        elif op == 3:
            del data[pos:]
        else:
            tokens = bytes(data).split(b" ")
            i = rng.randrange(len(tokens))
            if op == 4:
                tokens.insert(i, tokens[i])
            elif op == 5:
                j = rng.randrange(len(tokens))
                tokens[i], tokens[j] = tokens[j], tokens[i]
            elif b"=" in tokens[i]:  # key=value: an extreme value
                tokens[i] = tokens[i].split(b"=", 1)[0] + b"=" + rng.choice(_EXTREMES)
            else:
                tokens[i] = rng.choice(_EXTREMES)
            data = bytearray(b" ".join(tokens))
    return bytes(data)


def fuzz_line(rng: random.Random, corpus: list[bytes]) -> bytes:
    """A line without terminator: valid, mutated, foreign, random or over-long."""
    kind = rng.random()
    if kind < 0.15:
        return rng.choice(corpus).rstrip(b"\r\n")
    if kind < 0.65:
        return mutate(rng, rng.choice(corpus))
    if kind < 0.75:
        return mutate(rng, rng.choice(ALL_LINES)) if rng.random() < 0.5 else rng.choice(ALL_LINES)
    if kind < 0.97:
        return rng.randbytes(rng.randint(0, 80))
    return rng.randbytes(rng.randint(257, 700))  # longer than the splitter's limit


class HangError(AssertionError):
    """A driver call read without end."""


class FuzzLink:
    """The serial port of one driver, in memory; see the module docstring."""

    def __init__(self, rng: random.Random, corpus: list[bytes]) -> None:
        self.name = "fuzz"
        self.port = "fuzz://"
        self._rng = rng
        self._corpus = corpus
        self._splitter = LineSplitter()
        self._lines: list[bytes] = []
        self._open = False
        self.sent_lines = 0
        self.consumed: list[bytes] = []
        self.reads = 0

    @property
    def is_open(self) -> bool:
        return self._open

    @property
    def dropped_bytes(self) -> int:
        return self._splitter.dropped_total

    def open(self) -> None:
        self._open = True

    def close(self) -> None:
        self._open = False

    def answer(self, n: int) -> None:
        """The device sends ``n`` fuzzed lines (each with a random terminator)."""
        chunks = []
        for _ in range(n):
            chunks.append(fuzz_line(self._rng, self._corpus) + self._rng.choice(_TERMINATORS))
        self.sent_lines += n
        self._lines.extend(self._splitter.feed(b"".join(chunks)).lines)

    def write(self, data: bytes) -> None:
        self.answer(self._rng.choice((0, 1, 1, 1, 2, 3, 4)))

    def read_line(self, timeout: float) -> bytes | None:
        self.reads += 1
        if self.reads > MAX_READS_PER_CALL:
            raise HangError(f"more than {MAX_READS_PER_CALL} reads in one driver call")
        if not self._lines:
            return None
        line = self._lines.pop(0)
        self.consumed.append(line)
        return line

    def discard_input(self) -> None:
        self._lines.clear()
        self._splitter.reset()


def _rejects(parse: Callable[[bytes], object]) -> Callable[[bytes], bool]:
    def rejected(line: bytes) -> bool:
        try:
            parse(line)
        except ProtocolError:
            return True
        return False

    return rejected


def _scanner_rejects(line: bytes) -> bool:
    try:
        scan.parse_label(scan.parse_scan(line))
    except ProtocolError:
        return True
    return False


def _finite(number: object) -> bool:
    return isinstance(number, float) and math.isfinite(number)


def check_value(value: object) -> None:
    """What a driver returns must be acceptable downstream (contracts, ISO 8655)."""
    if isinstance(value, WeightReading) and value.value is not None:
        assert value.value.is_finite(), value
    elif isinstance(value, Conditions):
        numbers = (value.air_temp_c, value.water_temp_c, value.pressure_kpa, value.humidity_pct)
        assert all(_finite(n) for n in numbers), value
    elif isinstance(value, pip.Volume):
        assert all(_finite(n) for n in (value.nominal_ul, value.set_ul, value.min_ul)), value
    elif isinstance(value, pip.Counters):
        assert value.total >= 0, value
        assert value.since_service >= 0, value


@dataclass
class Target:
    """One driver under fuzz: how to build it, its calls, and the codec that judges garbage."""

    name: str
    corpus: list[bytes]
    build: Callable[[FuzzLink, GarbageLog], Any]
    calls: list[Callable[[Any], object]]
    rejects: Callable[[bytes], bool] | None  # None: the calls do not count garbage (probing)


def _balance(dialect: Dialect | None) -> Callable[[FuzzLink, GarbageLog], BalanceDriver]:
    return lambda link, garbage: BalanceDriver(link, garbage, dialect, timeout_s=0.05)


_BALANCE_CALLS: list[Callable[[Any], object]] = [
    lambda d: d.weigh(stable=False),
    lambda d: d.weigh(stable=True, timeout=0.05),
    lambda d: d.zero(),
    lambda d: d.tare(),
    lambda d: d.identify(),
]
TARGETS = [
    Target(
        "balance mt-sics",
        MT_LINES,
        _balance(Dialect.MT_SICS),
        _BALANCE_CALLS,
        _rejects(mtsics.parse_reply),
    ),
    Target(
        "balance a&d", AND_LINES, _balance(Dialect.AND), _BALANCE_CALLS, _rejects(aandd.parse_line)
    ),
    Target(
        "balance sbi", SBI_LINES, _balance(Dialect.SBI), _BALANCE_CALLS, _rejects(sbi.parse_line)
    ),
    Target(
        "balance probe",
        MT_LINES + AND_LINES + SBI_LINES,
        _balance(None),
        [lambda d: d.probe()],
        None,
    ),
    Target(
        "pipette",
        PIPETTE_LINES,
        lambda link, garbage: PipetteDriver(link, garbage, timeout_s=0.05),
        [
            lambda d: d.identify(),
            lambda d: d.counters(),
            lambda d: d.volume(),
            lambda d: d.volume(500.0),
            lambda d: d.dispense(),
            lambda d: d.events(),
        ],
        _rejects(pip.parse_line),
    ),
    Target(
        "sensor",
        SENSOR_LINES,
        lambda link, garbage: SensorDriver(link, garbage, timeout_s=0.05),
        [lambda d: d.connect(), lambda d: d.measure()],
        _rejects(pip.parse_line),
    ),
    Target(
        "scanner",
        SCANNER_LINES,
        lambda link, garbage: ScannerDriver(link, garbage),
        [lambda d: d.next_scan(timeout=0.0)],
        _scanner_rejects,
    ),
]


@dataclass
class FuzzResult:
    target: str
    lines: int = 0
    calls: int = 0
    garbage: int = 0
    dropped_bytes: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def fuzz(target: Target, lines: int, seed: int) -> FuzzResult:
    """Run ``target``'s calls until ``lines`` fuzzed lines were sent; assert the properties."""
    rng = random.Random(f"{seed}:{target.name}")
    link = FuzzLink(rng, target.corpus)
    garbage = GarbageLog(target.name, summary_s=3600.0)
    driver = target.build(link, garbage)
    result = FuzzResult(target.name)
    started = time.monotonic()
    while link.sent_lines < lines:
        call = rng.choice(target.calls)
        if target.name == "scanner" or rng.random() < 0.1:
            link.answer(rng.randint(0, 3))  # unsolicited lines (events, print key, noise)
        link.reads = 0
        link.consumed = []
        before = garbage.total
        t0 = time.monotonic()
        try:
            value = call(driver)
        except DOCUMENTED_ERRORS as exc:
            name = type(exc).__name__
            result.errors[name] = result.errors.get(name, 0) + 1
        except HangError:
            raise
        except Exception as exc:
            raise AssertionError(
                f"{target.name}: undocumented {type(exc).__name__}: {exc} "
                f"(seed {seed}, after lines {link.consumed!r})"
            ) from exc
        else:
            check_value(value)
        took = time.monotonic() - t0
        assert took < MAX_SECONDS_PER_CALL, f"{target.name}: a call took {took:.2f} s"
        if target.rejects is not None:
            expected = sum(1 for line in link.consumed if target.rejects(line))
            assert garbage.total - before == expected, (
                f"{target.name}: {expected} garbage line(s) consumed, "
                f"{garbage.total - before} counted: {link.consumed!r} (seed {seed})"
            )
        result.calls += 1
    result.lines = link.sent_lines
    result.garbage = garbage.total
    result.dropped_bytes = link.dropped_bytes
    result.seconds = time.monotonic() - started
    return result
