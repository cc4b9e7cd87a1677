"""Procedure checks of a calibration run (ISO 8655-6), as findings that feed the verdict.

A *gap* (severity ``gap``: no statement of conformity is made, the verdict is "not evaluated"):

- a channel of a multichannel pipette was not tested, or a tested channel number does not exist
  on the pipette (channel 9 of an 8-channel pipette);
- a required test volume is missing on a tested channel: 100 %, 50 % and 10 % of the nominal
  volume (reference §2: VITLAB, Mettler Toledo; 2022: "10 %, 50 %, 100 %; if the pipette's
  minimum volume is above 10 %, test that volume instead"). The contract does not carry the
  pipette's lower range limit, so the low point counts as present when a volume of 10 % was
  tested or, failing that, when the lowest tested volume lies above 10 % and below 50 % (taken
  as the lower limit of the range, said in an ``info`` finding).

A *warning* (conformity cannot be stated): the water temperature was not recorded both at the
start and at the end of the run (ISO 8655-6:2022, as Mettler Toledo reports it; reference §2.2).

Quick checks are checks, not calibrations: none of this applies to them.
"""

from __future__ import annotations

from typing import Final

from labcal_shared.contracts import GravimetricRun as RunMessage
from labcal_shared.contracts import RunMode
from labcal_shared.iso8655.findings import Finding, FindingCode, Severity

__all__ = ["REQUIRED_SHARES", "procedure_findings"]

REQUIRED_SHARES: Final = (1.0, 0.5, 0.1)
_REL_TOL: Final = 1e-6


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= _REL_TOL * max(abs(a), abs(b))


def _channel_findings(run: RunMessage) -> list[Finding]:
    tested = sorted({tv.channel for tv in run.test_volumes})
    out: list[Finding] = []
    outside = [c for c in tested if c > run.channels]
    if outside:
        out.append(
            Finding(
                FindingCode.CHANNEL_OUT_OF_RANGE,
                Severity.GAP,
                f"channel(s) {', '.join(map(str, outside))} tested, but the pipette has "
                f"{run.channels} channel(s); the results cannot be attributed",
            )
        )
    missing = [c for c in range(1, run.channels + 1) if c not in tested]
    if missing:
        out.append(
            Finding(
                FindingCode.CHANNEL_NOT_TESTED,
                Severity.GAP,
                f"channel(s) {_ranges(missing)} of {run.channels} not tested; every channel "
                "must be tested",
            )
        )
    return out


def _ranges(values: list[int]) -> str:
    parts: list[str] = []
    start = prev = values[0]
    for v in values[1:]:
        if v == prev + 1:
            prev = v
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = v
    parts.append(str(start) if start == prev else f"{start}-{prev}")
    return ", ".join(parts)


def _volume_findings(run: RunMessage) -> list[Finding]:
    nominal = run.nominal_volume_ul
    out: list[Finding] = []
    by_channel: dict[int, list[float]] = {}
    for tv in run.test_volumes:
        by_channel.setdefault(tv.channel, []).append(tv.volume_ul)
    for channel in sorted(by_channel):
        volumes = by_channel[channel]
        missing = []
        for share in REQUIRED_SHARES:
            target = nominal * share
            if any(_same(v, target) for v in volumes):
                continue
            low = min(volumes)
            if share == 0.1 and 0.1 * nominal < low < 0.5 * nominal:
                out.append(
                    Finding(
                        FindingCode.TEST_VOLUME_MISSING,
                        Severity.INFO,
                        f"channel {channel}: lowest test volume {low:g} µL taken as the lower "
                        f"limit of the pipette's range (instead of 10 % = {target:g} µL)",
                    )
                )
                continue
            missing.append(f"{share:.0%} = {target:g} µL")
        if missing:
            out.append(
                Finding(
                    FindingCode.TEST_VOLUME_MISSING,
                    Severity.GAP,
                    f"channel {channel}: required test volume(s) not tested: "
                    f"{', '.join(missing)} (ISO 8655-6: 100 %, 50 %, 10 % of nominal)",
                )
            )
    return out


def _water_findings(run: RunMessage) -> list[Finding]:
    water = [s.water_temp_c for s in run.environment]
    if all(w is None for w in water):
        return []  # reported as water_temp_assumed by the adapter
    if len(water) >= 2 and water[0] is not None and water[-1] is not None:
        return []
    return [
        Finding(
            FindingCode.WATER_TEMP_START_END,
            Severity.WARNING,
            "water temperature not recorded at both the start and the end of the run "
            f"({len(water)} environment sample(s)); ISO 8655-6:2022 asks for both",
        )
    ]


def procedure_findings(run: RunMessage) -> list[Finding]:
    """Gaps and warnings on the procedure of a calibration run (none for a quick check)."""
    if run.mode is RunMode.QUICK_CHECK:
        return []
    return [*_channel_findings(run), *_volume_findings(run), *_water_findings(run)]
