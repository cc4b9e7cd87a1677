"""Builders of contract runs for engine tests (masses computed from target volumes)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from labcal_shared.contracts import (
    DeviceRef,
    DeviceType,
    EnvironmentSample,
    GravimetricRun,
    RunMode,
    TestVolume,
)

Z_20C = 1.002854  # µL/mg at 20 °C, 101.3 kPa, 50 % RH (reference §3)
SPREAD = (-0.1, 0.05, 0.0, 0.1, -0.05, 0.02, -0.02, 0.08, -0.08, 0.0)

PIPETTE = DeviceRef(type=DeviceType.PIPETTE, make="Acme", model="P100", serial="P-1")
BALANCE = DeviceRef(type=DeviceType.BALANCE, make="Mettler", model="XPR", serial="B-7")


def make_run(
    ended_at: datetime,
    *,
    bias_ul: float = 0.0,
    spread_ul: float = 1.0,
    mode: RunMode = RunMode.CALIBRATION,
    phase: str | None = "as_left",
    water_temp_c: float | None = 20.0,
    edition: str = "ISO 8655-2:2002",
) -> GravimetricRun:
    volumes = []
    for v in (100.0, 50.0, 10.0):
        masses = [(v + bias_ul + spread_ul * d) / Z_20C for d in SPREAD]
        volumes.append(TestVolume(volume_ul=v, masses_mg=masses, evaporation_per_cycle_mg=0.0))
    return GravimetricRun(
        run_id=uuid.uuid4(),
        mode=mode,
        phase=phase if mode is RunMode.CALIBRATION else None,
        pipette=PIPETTE,
        nominal_volume_ul=100.0,
        balance=BALANCE,
        balance_readability_mg=0.001,
        environment=[  # at the start and at the end of the run
            EnvironmentSample(
                air_temp_c=20.0, water_temp_c=water_temp_c, pressure_kpa=101.3, humidity_pct=55
            )
        ]
        * 2,
        test_volumes=volumes,
        operator="ana",
        started_at=ended_at - timedelta(minutes=40),
        ended_at=ended_at,
        mpe_edition=edition,
    )
