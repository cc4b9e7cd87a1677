"""Balance driver: MT-SICS, Sartorius SBI and A&D on the shared codecs, with dialect probing.

Replies are matched to the command sent; lines that no codec understands are counted as garbage
(:class:`GarbageLog`) and skipped; stray but valid lines (a print-key output, a late reply) are
skipped too. A missing or unstable answer raises :class:`DeviceTimeoutError`; I/O failures raise
:class:`DeviceUnavailableError` (from the link).

``weigh(stable=True)`` returns a stable reading or none: a dynamic answer (``S D …``, which
third-party MT-SICS balances send at once to ``S``; ``US`` on A&D; a blank unit on SBI) is counted
(:attr:`BalanceDriver.unstable_total`) and the balance asked again until the timeout. An identity
reply the codec cannot read (``I2`` with a serial number only, ``ES`` to ``?TN``) falls back to the
configured identity (an empty field here; :class:`~labcal_edge.station.Device` fills it in).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from labcal_edge.drivers.garbage import GarbageLog
from labcal_edge.drivers.link import SerialLink
from labcal_edge.errors import DeviceTimeoutError, EdgeError
from labcal_shared.errors import ProtocolError
from labcal_shared.protocols import Dialect, WeightReading, aandd, mtsics, sbi

__all__ = ["BalanceDriver", "BalanceIdentity"]

log = logging.getLogger("labcal_edge.drivers")

T = TypeVar("T")
_PROBE_TIMEOUT_S = 1.0
_STABLE_POLL_S = 0.1
_AFTER_GARBAGE_S = 0.2


@dataclass(frozen=True, slots=True)
class BalanceIdentity:
    dialect: Dialect
    model: str
    serial: str


class BalanceCommandError(EdgeError):
    """The balance refused a command (``ES``/``EL``, ``Z I``, ``ERR``)."""


class BalanceDriver:
    def __init__(
        self,
        link: SerialLink,
        garbage: GarbageLog,
        dialect: Dialect | None = None,
        *,
        timeout_s: float = 2.0,
    ) -> None:
        self.link = link
        self.garbage = garbage
        self.dialect = dialect
        self.timeout_s = timeout_s
        self.last_unit = ""  # SBI leaves the unit blank while unstable: the value keeps its unit
        self.unstable_total = 0  # dynamic answers while a stable weight was asked for
        self.identity_fallbacks = 0  # identity replies that could not be read

    # -- connection ------------------------------------------------------------------------

    def connect(self) -> BalanceIdentity:
        """Open the port, detect the dialect if unknown, read model and serial number."""
        self.link.open()
        if self.dialect is None:
            self.dialect = self.probe()
        return self.identify()

    def probe(self) -> Dialect:
        """Ask for an immediate weight in each dialect until one answers in kind."""
        for dialect in (Dialect.MT_SICS, Dialect.AND, Dialect.SBI):
            self.dialect = dialect
            try:
                self.weigh(stable=False, timeout=_PROBE_TIMEOUT_S, count_garbage=False)
            except (DeviceTimeoutError, BalanceCommandError):
                continue
            return dialect
        self.dialect = None
        raise DeviceTimeoutError(
            f"{self.link.name}: no balance dialect answered (tried MT-SICS, A&D, SBI)"
        )

    def identify(self) -> BalanceIdentity:
        """Model and serial number from the balance; a field it cannot tell is left empty."""
        d = self._dialect()
        if d is Dialect.MT_SICS:
            data = self._identity_field(
                "I2", lambda: mtsics.parse_balance_data(self._ask_mt_info("I2")).balance_type
            )
            serial = self._identity_field("I4", lambda: self._ask_mt_info("I4").fields[0])
            return BalanceIdentity(d, data, serial)
        if d is Dialect.SBI:
            model = self._identity_field(
                "x1_", lambda: self._ask(sbi.format_command("x1_"), _sbi_text)
            )
            serial_no = self._identity_field(
                "x2_", lambda: self._ask(sbi.format_command("x2_"), _sbi_text)
            )
            return BalanceIdentity(d, model, serial_no)
        model = self._identity_field(
            "?TN", lambda: self._ask(aandd.format_command("?TN"), lambda ln: _and_info(ln, "TN"))
        )
        serial_no = self._identity_field(
            "?SN", lambda: self._ask(aandd.format_command("?SN"), lambda ln: _and_info(ln, "SN"))
        )
        return BalanceIdentity(d, model, serial_no)

    def _ask_mt_info(self, command: str) -> mtsics.InfoReply:
        return self._ask(mtsics.format_command(command), lambda ln: _mt_info(ln, command))

    def _identity_field(self, command: str, ask: Callable[[], str]) -> str:
        """``ask()``; an unreadable, refused or missing answer gives ``""`` (configured one)."""
        try:
            return ask()
        except (ProtocolError, BalanceCommandError, DeviceTimeoutError) as exc:
            self.identity_fallbacks += 1
            log.warning(
                "%s: cannot read the balance's identity from %s (%s); using the configured one",
                self.link.name,
                command,
                exc,
            )
            return ""

    # -- weighing --------------------------------------------------------------------------

    def weigh(
        self, *, stable: bool, timeout: float | None = None, count_garbage: bool = True
    ) -> WeightReading:
        """One reading; with ``stable``, ask again (up to ``timeout``) until it is stable.

        Overload and underload readings are returned at once (they carry no value to settle).
        """
        wait = self.timeout_s if timeout is None else timeout
        deadline = time.monotonic() + wait
        while True:
            left = max(0.05, deadline - time.monotonic())
            reading = self._weigh_once(stable, left, count_garbage)
            if not stable or reading.stable or not reading.in_range:
                return reading
            self.unstable_total += 1
            if time.monotonic() + _STABLE_POLL_S >= deadline:
                raise DeviceTimeoutError(
                    f"{self.link.name}: weight not stable within {wait:g} s "
                    f"(last {reading.value} {reading.unit}, dynamic)"
                )
            time.sleep(_STABLE_POLL_S)

    def _weigh_once(self, stable: bool, wait: float, count_garbage: bool) -> WeightReading:
        d = self._dialect()
        if d is Dialect.MT_SICS:
            cmd = "S" if stable else "SI"
            return self._ask(mtsics.format_command(cmd), _mt_weight(cmd), wait, count_garbage)
        if d is Dialect.AND:
            cmd = "S" if stable else "Q"
            return self._ask(aandd.format_command(cmd), _and_weight, wait, count_garbage)
        # SBI has no "send when stable": print; while unstable the unit is blank
        reading = self._ask(sbi.format_command("P"), _sbi_weight, wait, count_garbage)
        if reading.unit:
            self.last_unit = reading.unit
        elif reading.in_range and self.last_unit:
            reading = WeightReading(reading.value, self.last_unit, reading.stable)
        return reading

    def zero(self, timeout: float | None = None) -> None:
        wait = self.timeout_s if timeout is None else timeout
        d = self._dialect()
        if d is Dialect.MT_SICS:
            self._ask(mtsics.format_command("Z"), lambda ln: _mt_status(ln, "Z"), wait)
        elif d is Dialect.AND:
            self._send(aandd.format_command("Z"))
        else:
            self._send(sbi.format_command("V"))

    def tare(self, timeout: float | None = None) -> None:
        wait = self.timeout_s if timeout is None else timeout
        d = self._dialect()
        if d is Dialect.MT_SICS:
            self._ask(mtsics.format_command("T"), _mt_tare, wait)
        elif d is Dialect.AND:
            self._send(aandd.format_command("T"))
        else:
            self._send(sbi.format_command("T"))

    # -- plumbing ----------------------------------------------------------------------------

    def _dialect(self) -> Dialect:
        if self.dialect is None:
            raise EdgeError(f"{self.link.name}: dialect unknown; connect() first")
        return self.dialect

    def _send(self, command: bytes) -> None:
        self.link.discard_input()
        self.link.write(command)

    def _ask(
        self,
        command: bytes,
        match: Callable[[bytes], T | None],
        timeout: float | None = None,
        count_garbage: bool = True,
    ) -> T:
        """Send ``command``; return the first line ``match`` accepts (``None`` = not ours)."""
        wait = self.timeout_s if timeout is None else timeout
        self._send(command)
        deadline = time.monotonic() + wait
        while True:
            line = self.link.read_line(max(0.0, deadline - time.monotonic()))
            if line is None:
                raise DeviceTimeoutError(
                    f"{self.link.name}: no answer to {command.strip()!r} within {wait:g} s"
                )
            try:
                result = match(line)
            except ProtocolError as exc:
                if count_garbage:
                    self.garbage.record(line, str(exc))
                # probably our reply, garbled: give a late good line a moment, not the full wait
                deadline = min(deadline, time.monotonic() + _AFTER_GARBAGE_S)
                continue
            if result is not None:
                self.garbage.good()
                return result


# -- matchers: line -> result, None (valid but not ours), or ProtocolError (garbage) ----------


def _mt_weight(command: str) -> Callable[[bytes], WeightReading | None]:
    """The matcher of the answer to weight ``command`` (``S S …``, ``SI S …``, ``S +`` …)."""

    def match(line: bytes) -> WeightReading | None:
        reply = mtsics.parse_reply(line)
        if not mtsics.reply_answers(command, reply):
            return None
        if isinstance(reply, mtsics.WeightReply):
            return reply.reading()
        if isinstance(reply, mtsics.StatusReply):
            if reply.status in ("+", "-"):
                over = reply.status == "+"
                return WeightReading(None, "", False, overload=over, underload=not over)
            if reply.status == "I":
                raise DeviceTimeoutError(
                    f"balance answered {reply.command} I (busy or not stable in time)"
                )
        if isinstance(reply, mtsics.ErrorReply):
            raise BalanceCommandError(f"balance answered {reply.code} ({reply.description})")
        if isinstance(reply, mtsics.HardwareErrorReply):
            raise BalanceCommandError(f"balance reported hardware error {reply.code}{reply.source}")
        return None

    return match


def _mt_info(line: bytes, command: str) -> mtsics.InfoReply | None:
    reply = mtsics.parse_reply(line)
    if isinstance(reply, mtsics.InfoReply) and reply.command == command and reply.fields:
        return reply
    if isinstance(reply, mtsics.ErrorReply):
        raise BalanceCommandError(f"{command}: balance answered {reply.code}")
    return None


def _mt_status(line: bytes, command: str) -> bool | None:
    reply = mtsics.parse_reply(line)
    if isinstance(reply, mtsics.StatusReply) and reply.command == command:
        if reply.status in ("A", "S", "D"):
            return True
        if reply.status == "I":
            raise DeviceTimeoutError(f"balance answered {command} I (not stable in time)")
        raise BalanceCommandError(f"{command}: balance answered {command} {reply.status}")
    if isinstance(reply, mtsics.ErrorReply):
        raise BalanceCommandError(f"{command}: balance answered {reply.code}")
    return None


def _mt_tare(line: bytes) -> bool | None:
    reply = mtsics.parse_reply(line)
    if isinstance(reply, mtsics.WeightReply) and reply.command == "T":
        return True
    return _mt_status(line, "T")


def _and_weight(line: bytes) -> WeightReading | None:
    parsed = aandd.parse_line(line)
    if isinstance(parsed, aandd.AndWeightLine):
        return parsed.reading
    return None


def _and_info(line: bytes, header: str) -> str | None:
    parsed = aandd.parse_line(line)
    if isinstance(parsed, aandd.AndInfoLine) and parsed.header == header:
        return parsed.text.strip()
    return None


def _sbi_weight(line: bytes) -> WeightReading | None:
    parsed = sbi.parse_line(line)
    if isinstance(parsed, sbi.SbiWeightLine):
        return parsed.reading
    return None


def _sbi_text(line: bytes) -> str | None:
    parsed = sbi.parse_line(line)
    if isinstance(parsed, sbi.SbiTextLine):
        return parsed.value.strip()
    return None
