"""Render example certificates to PNG beside this file, through the real certificate code.

    .venv/bin/python docs/screenshots/certificates.py

Three cases: a conforming single-channel pipette (as left, with its as-found results), a not
conforming 8-channel pipette (one channel off), and a conforming 100 µL pipette whose
statement is limited by a finding (humidity below 50 %). Each run is judged by the engine
(``record_from_run``), built into a certificate document and rendered to PDF as the portal
does; ``pdftoppm`` (Debian poppler-utils) turns every page into ``certificate-<case>-<n>.png``.
"""

from __future__ import annotations

import subprocess
import tempfile
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from labcal_cloud.certificates.document import build_document
from labcal_cloud.certificates.pdf import render_certificate
from labcal_cloud.certificates.profiles import Laboratory
from labcal_cloud.engine.records import CalibrationRecord, record_from_run
from labcal_shared.contracts import (
    DeviceRef,
    DeviceType,
    EnvironmentSample,
    GravimetricRun,
    MeasuringInstrument,
    RunMode,
    TestVolume,
    Tip,
)

HERE = Path(__file__).parent
Z_20C = 1.002854
SPREAD = (-0.1, 0.05, 0.0, 0.1, -0.05, 0.02, -0.02, 0.08, -0.08, 0.0)
END = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)
LAB = Laboratory(
    "LabCal Service calibration laboratory",
    "Musterstrasse 1, 38116 Braunschweig, Germany",
    "D-K-00000-01-00 (example)",
    "Pia Provider",
    "Head of calibration laboratory",
    "DE",
)
INSTRUMENTS = [
    MeasuringInstrument(
        role="balance",
        make="Mettler",
        model="XPR26",
        serial="B-77",
        certificate="K-2026-0117",
        calibrated_by="D-K-15096",
        valid_until=date(2027, 6, 1),
    ),
    MeasuringInstrument(
        role="thermometer", make="Testo", model="735", serial="TH-9", certificate="TC-5521"
    ),
    MeasuringInstrument(
        role="barometer", make="Greisinger", model="GDH 200", serial="BA-3", certificate="BC-88"
    ),
]  # fmt: skip  (no hygrometer: the certificate says "not stated")


def run(
    channels: int, *, phase: str | None, bias: dict[int, float], humidity: float, hours: int = 0
) -> GravimetricRun:
    volumes = [
        TestVolume(
            volume_ul=v,
            channel=ch,
            masses_mg=[(v + bias.get(ch, 0.0) + 0.05 * d) / Z_20C for d in SPREAD],
            evaporation_per_cycle_mg=0.0,
        )
        for ch in range(1, channels + 1)
        for v in (100.0, 50.0, 10.0)
    ]
    env = EnvironmentSample(
        air_temp_c=20.0, water_temp_c=20.0, pressure_kpa=101.3, humidity_pct=humidity
    )
    ended = END - timedelta(hours=hours)
    return GravimetricRun(
        run_id=uuid.uuid4(),
        mode=RunMode.CALIBRATION,
        phase=phase,  # type: ignore[arg-type]
        pipette=DeviceRef(
            type=DeviceType.PIPETTE, make="Acme", model=f"P100-{channels}", serial="EX-1"
        ),
        nominal_volume_ul=100.0,
        channels=channels,
        balance=DeviceRef(type=DeviceType.BALANCE, make="Mettler", model="XPR26", serial="B-77"),
        balance_readability_mg=0.001,
        environment=[env, env],
        test_volumes=volumes,
        operator="Tara Technician",
        started_at=ended - timedelta(hours=1),
        ended_at=ended,
        tip=Tip(make="Acme", model="T-200 filter tip", lot="L2026-11"),
        instruments=INSTRUMENTS,
        received_at=ended - timedelta(days=2),
    )


def record(r: GravimetricRun) -> CalibrationRecord:
    return record_from_run(
        r,
        record_id=uuid.uuid4(),
        recorded_at=r.ended_at,
        balance_valid_until=datetime(2027, 6, 1, tzinfo=UTC),
    )


def pdf(r: GravimetricRun, as_found: CalibrationRecord | None = None) -> bytes:
    rec = record(r)
    doc = build_document(
        r,
        rec,
        number=f"LC-{rec.ended_at:%Y%m%d}-{rec.record_id.hex[:8].upper()}",
        laboratory=LAB,
        customer="Rhein Biolabs",
        customer_address="Rheinallee 10, 55116 Mainz, Germany",
        site="Main building",
        site_address="",
        balance_traceability="balance Mettler XPR26 B-77: within its own calibration",
        issued_at=END + timedelta(hours=1),
        next_due=date(2027, 12, 7),
        verify_url="https://portal.example.com/verify/EXAMPLE",
        as_found=as_found,
    )
    return render_certificate(doc)


def main() -> None:
    found = record(run(1, phase="as_found", bias={1: 1.2}, humidity=55, hours=2))
    cases = {
        "conforming": pdf(run(1, phase="as_left", bias={}, humidity=55), found),
        "not-conforming-8ch": pdf(run(8, phase=None, bias={3: 2.5}, humidity=55)),
        "finding": pdf(run(1, phase=None, bias={}, humidity=45)),
    }
    for old in HERE.glob("certificate-*.png"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in cases.items():
            path = Path(tmp) / f"{name}.pdf"
            path.write_bytes(data)
            prefix = HERE / f"certificate-{name}"
            subprocess.run(["pdftoppm", "-png", "-r", "60", str(path), str(prefix)], check=True)
    for png in sorted(HERE.glob("certificate-*.png")):
        print(png.relative_to(HERE.parent.parent))


if __name__ == "__main__":
    main()
