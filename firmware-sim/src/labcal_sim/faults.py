"""Fault switches of one simulated device, applied to its output (OctoPrint virtual-printer style).

Pure: :func:`shape` takes the lines a device produced, the switches and a random source, and
returns the bytes to send. Probabilities are per line (``1.0`` = every line, for deterministic
tests). Switches that act elsewhere: ``delay_s`` (slow replies) is applied by the serve loop;
``unstable`` (permanently unstable readings) by the balance model; disconnect/reappear (hot-plug)
by the transport (:meth:`labcal_sim.serve.DeviceServer.unplug`).

=============  =====================================================================
``garbage=p``  random non-ASCII bytes are sent in front of a line
``drop=p``     a line is not sent at all
``truncate=p`` only the first part of a line is sent, without its terminator
``silent``     nothing is sent (the device still executes commands)
``delay=s``    every reply leaves ``s`` seconds (device clock) after it was produced
``unstable``   balance readings never become stable
=============  =====================================================================
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from labcal_sim.ports import RandomSource

__all__ = ["FaultSwitches", "shape"]


@dataclass(frozen=True, slots=True)
class FaultSwitches:
    garbage: float = 0.0
    drop: float = 0.0
    truncate: float = 0.0
    silent: bool = False
    delay_s: float = 0.0
    unstable: bool = False

    def __post_init__(self) -> None:
        for name in ("garbage", "drop", "truncate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"fault {name} is a probability 0..1, got {value}")
        if self.delay_s < 0:
            raise ValueError(f"fault delay must not be negative, got {self.delay_s}")

    @classmethod
    def parse(cls, specs: list[str] | tuple[str, ...]) -> FaultSwitches:
        """From CLI words: ``["garbage=0.1", "silent", "delay=2"]``."""
        result = cls()
        names = {f.name for f in fields(cls)}
        for spec in specs:
            key, sep, value = spec.partition("=")
            key = "delay_s" if key == "delay" else key
            if key not in names:
                raise ValueError(
                    f"unknown fault {spec!r}; known: garbage drop truncate silent delay unstable"
                )
            if key in ("silent", "unstable"):
                flag = not sep or value.lower() in ("1", "true", "yes", "on")
                result = (
                    replace(result, silent=flag)
                    if key == "silent"
                    else replace(result, unstable=flag)
                )
                continue
            try:
                number = float(value)
            except ValueError:
                raise ValueError(f"fault {spec!r} needs a number, e.g. {key}=0.5") from None
            values = {f.name: getattr(result, f.name) for f in fields(cls)}
            values[key] = number
            result = cls(**values)
        return result


def _hit(probability: float, rng: RandomSource) -> bool:
    return probability >= 1.0 or (probability > 0.0 and rng.random() < probability)


def shape(lines: list[bytes], faults: FaultSwitches, rng: RandomSource) -> bytes:
    """The bytes actually sent for ``lines`` under ``faults``."""
    if faults.silent:
        return b""
    out = bytearray()
    for line in lines:
        if _hit(faults.drop, rng):
            continue
        if _hit(faults.garbage, rng):
            out.extend(0x80 + rng.randrange(0, 0x7F) for _ in range(1 + rng.randrange(0, 8)))
        if _hit(faults.truncate, rng):
            body = line.rstrip(b"\r\n")
            line = body[: rng.randrange(0, max(1, len(body)))]
        out.extend(line)
    return bytes(out)
