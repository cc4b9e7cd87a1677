"""Sartorius SBI conformance over a real pty: ESC commands, 16/22-character print lines."""

from __future__ import annotations

import random
import re

import pytest

from labcal_shared.protocols.sbi import parse_line
from labcal_sim.devices.sbi import SbiBalance
from labcal_sim.ports import ManualClock

from .support import quiet_balance, serving, silent_for

ESC = b"\x1b"


@pytest.fixture(params=[False, True], ids=["16-char", "22-char"])
def sbi(request):
    clock = ManualClock(50.0)
    model = quiet_balance(clock)
    model.place(123_560.0, clock.now())
    clock.advance(2.0)
    device = SbiBalance(model, random.Random(3), id_codes=request.param)
    with serving(device, "pty", clock) as (server, port):
        yield clock, model, server, port, ("N     " if request.param else "").encode()


def test_print_stable_line_has_exact_layout(sbi):
    _, _, _, port, prefix = sbi
    port.write(ESC + b"P\r\n")
    line = port.readline()
    assert line == prefix + b"+   123.56 g  \r\n"
    assert len(line) == 16 + len(prefix)


def test_crlf_after_the_command_is_optional(sbi):
    _, _, _, port, prefix = sbi
    port.write(ESC + b"P" + ESC + b"kP")
    assert [port.readline(), port.readline()] == [prefix + b"+   123.56 g  \r\n"] * 2


def test_unstable_reading_has_blank_unit(sbi):
    clock, model, server, port, prefix = sbi
    with server.lock:
        model.place(1_000.0, clock.now())
    port.write(ESC + b"P")
    line = port.readline()
    assert len(line) == 16 + len(prefix)
    assert re.fullmatch(rb"[+-] +\d+\.\d{2}    \r\n", line[len(prefix) :])
    reading = parse_line(line).reading  # type: ignore[union-attr]
    assert not reading.stable
    assert reading.unit == ""


def test_tare_and_zero_are_silent_and_take_effect(sbi):
    _, _, _, port, prefix = sbi
    port.write(ESC + b"U")  # tare
    assert silent_for(port) == b""
    port.write(ESC + b"P")
    assert port.readline() == prefix + b"+     0.00 g  \r\n"


def test_esc_t_tares_outside_the_zero_range(sbi):
    _, _, _, port, prefix = sbi
    port.write(ESC + b"T")
    assert silent_for(port) == b""
    port.write(ESC + b"P")
    assert port.readline() == prefix + b"+     0.00 g  \r\n"


def test_zero_key_outside_range_changes_nothing(sbi):
    _, _, _, port, prefix = sbi
    port.write(ESC + b"V")
    assert silent_for(port) == b""
    port.write(ESC + b"P")
    assert port.readline() == prefix + b"+   123.56 g  \r\n"


def test_identity_lines(sbi):
    _, _, _, port, _ = sbi
    port.write(ESC + b"x2_\r\n")
    assert port.readline() == b"SerNo.    B123456789\r\n"
    port.write(ESC + b"x1_")
    assert port.readline() == b"Model       XPR205DU\r\n"


def test_overload_line(sbi):
    clock, model, server, port, prefix = sbi
    with server.lock:
        model.place(200_000.0, clock.now())
    port.write(ESC + b"P")
    line = port.readline()
    assert line == prefix + b"+        H    \r\n"
    assert parse_line(line).reading.overload  # type: ignore[union-attr]


def test_unknown_commands_and_noise_are_ignored(sbi):
    _, _, _, port, prefix = sbi
    port.write(b"hello\r\n" + ESC + b"Q" + ESC + b"!")
    assert silent_for(port) == b""
    port.write(ESC + b"P")
    assert port.readline() == prefix + b"+   123.56 g  \r\n"


OUTPUT_COMMANDS = {
    "P": b"+   123.56 g  ",
    "kP": b"+   123.56 g  ",
    # identity lines: label in the 6-character ID field, value right-aligned in 14
    "x1_": b"Model " + b"XPR205DU".rjust(14),
    "x2_": b"SerNo." + b"B123456789".rjust(14),
    "x3_": b"BAC   " + b"01-63-02".rjust(14),
    "x4_": b"APC   " + b"01-42-01".rjust(14),
    "x5_": b"ID    " + b"LabCal sim".rjust(14),
}


def test_every_sbi_command_answers_or_stays_silent(sbi):
    """The whole SBI command table: output commands answer with one exact line, all other known
    commands are silent (protocols.md §2.1)."""
    from labcal_shared.protocols.sbi import COMMANDS

    _, _, _, port, prefix = sbi
    assert set(OUTPUT_COMMANDS) <= set(COMMANDS)
    for code, body in OUTPUT_COMMANDS.items():
        port.write(ESC + code.encode() + b"\r\n")
        expected = (prefix + body) if code in ("P", "kP") else body
        assert port.readline() == expected + b"\r\n", code
    silent = [c for c in COMMANDS if c not in OUTPUT_COMMANDS and c not in ("T", "U", "V")]
    assert len(silent) >= 15
    port.write(b"".join(ESC + c.encode() for c in silent) + ESC + b"x2_")
    assert port.readline() == b"SerNo.    B123456789\r\n"  # the first and only reply
    assert silent_for(port) == b""
