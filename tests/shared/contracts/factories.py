"""Valid example messages, one per payload type, for the contract tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from labcal_shared.contracts import (
    DeviceEvent,
    DeviceRef,
    DeviceStatus,
    Envelope,
    EnvironmentSample,
    EvaporationWeighings,
    GravimetricRun,
    Payload,
    Reading,
    ReadingBatch,
    StationStatus,
    TestVolume,
    UsageReport,
)

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
PIPETTE = DeviceRef(type="pipette", make="LabCal", model="LP-1000", serial="P0001")
BALANCE = DeviceRef(type="balance", make="Mettler Toledo", model="XS205DU", serial="B123456789")


def run_payload() -> GravimetricRun:
    return GravimetricRun(
        run_id=uuid.UUID(int=7),
        mode="calibration",
        phase="as_found",
        pipette=PIPETTE,
        nominal_volume_ul=1000.0,
        balance=BALANCE,
        balance_readability_mg=0.01,
        environment=[
            EnvironmentSample(
                air_temp_c=20.1, water_temp_c=20.0, pressure_kpa=101.3, humidity_pct=55.0
            ),
        ],
        test_volumes=[
            TestVolume(
                volume_ul=1000.0,
                masses_mg=[997.1, 997.3, 996.9, 997.0, 997.2, 997.1, 997.4, 996.8, 997.0, 997.1],
                evaporation=EvaporationWeighings(
                    m00_mg=0.0, m0_mg=-0.02, mn_mg=9971.0, mn1_mg=9970.98
                ),
            )
        ],
        operator="A. Operator",
        started_at=T0,
        ended_at=T0 + timedelta(minutes=20),
    )


def payloads() -> dict[str, Payload]:
    """One valid payload of every type."""
    return {
        "usage_report": UsageReport(cycles_total=48_200, cycles_since_service=1_200),
        "reading": Reading(value=997.12, unit="mg", stable=True),
        "reading_batch": ReadingBatch(
            readings=[
                {"value": 1.0, "unit": "g", "stable": False},
                {"value": None, "unit": "g", "stable": False, "status": "overload"},
            ]
        ),
        "gravimetric_run": run_payload(),
        "device_event": DeviceEvent(event="drop", detail="free fall detected"),
        "station_status": StationStatus(
            state="online",
            agent_version="0.1.0",
            devices=[DeviceStatus(device=BALANCE, available=True, port="/dev/ttyUSB0")],
            outbox_depth=3,
        ),
    }


def envelope(payload: Payload, seq: int = 1) -> Envelope:
    device = {
        "gravimetric_run": None,
        "station_status": None,
        "reading": BALANCE,
        "reading_batch": BALANCE,
    }.get(payload.type, PIPETTE)
    return Envelope(
        message_id=uuid.UUID(int=seq + 1000),
        tenant="acme-lab",
        station="station-01",
        seq=seq,
        device=device,
        device_time=T0,
        edge_time=T0 + timedelta(milliseconds=5),
        clock="synced",
        payload=payload,
    )
