"""Runs of single- and multichannel pipettes, sent through the real cloud path to a certificate.

:func:`certify_through_pipeline` does what a station's run message meets in the cloud: the
ingest core judges the encoded envelope and the store writes its rows, the engine's records
stage evaluates it, the certify stage renders and signs the certificate. Only the MQTT hop is
left out (tests/cloud/pipeline covers it).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from labcal_cloud.certificates.profiles import CustomerProfile, Laboratory
from labcal_cloud.engine.service import process_runs
from labcal_cloud.engine.store_sql import SqlEngineRepository
from labcal_cloud.ingest.core import Incoming, build_batch
from labcal_cloud.pipeline.certify import Issued, certify
from labcal_cloud.registry.store import OrderItem
from labcal_cloud.scheduler.event_outbox import WebhookOutbox
from labcal_cloud.storage.factory import open_store
from labcal_shared.contracts import (
    DeviceRef,
    DeviceType,
    Envelope,
    EnvironmentSample,
    GravimetricRun,
    MeasuringInstrument,
    RunMode,
    TestVolume,
    Tip,
    build_topic,
    encode,
)

from ..portal.helpers import World

Z_20C = 1.002854  # µL/mg at 20 °C, 101.3 kPa (reference §3)
SPREAD = (-0.1, 0.05, 0.0, 0.1, -0.05, 0.02, -0.02, 0.08, -0.08, 0.0)
BALANCE = DeviceRef(type=DeviceType.BALANCE, make="Mettler", model="XPR26", serial="B-77")
LAB = Laboratory(
    "Acme Calibration Lab",
    "12 Metrology Street, 38116 Braunschweig",
    "DAkkS D-K-15105-01-00",
    "Dr. Sigrid Signer",
    "Head of calibration laboratory",
    "DE",
)
CUSTOMER_ADDRESS = "4 Assay Road, 10115 Berlin"
INSTRUMENTS = (
    MeasuringInstrument(
        role="balance",
        make="Mettler",
        model="XPR26",
        serial="B-77",
        certificate="DAkkS-K-2026-0117",
        calibrated_by="Mettler-Toledo Calibration, D-K-15096",
        valid_until=datetime(2027, 6, 1, tzinfo=UTC).date(),
    ),
    MeasuringInstrument(
        role="thermometer", make="Testo", model="735", serial="TH-9", certificate="TC-5521"
    ),
    MeasuringInstrument(
        role="barometer", make="Greisinger", model="GDH 200", serial="BA-3", certificate="BC-88"
    ),
    MeasuringInstrument(
        role="hygrometer", make="Vaisala", model="HM40", serial="HY-2", certificate="HC-41"
    ),
)


def pipette_run(
    serial: str,
    *,
    channels: int = 1,
    ended_at: datetime,
    phase: str | None = None,
    bias_ul: dict[int, float] | None = None,
    instruments: tuple[MeasuringInstrument, ...] = INSTRUMENTS,
    humidity_pct: float = 55.0,
) -> GravimetricRun:
    """A 100 µL pipette, every channel at 100, 50 and 10 µL × 10 replicates; ``bias_ul`` adds a
    systematic error per channel."""
    volumes = [
        TestVolume(
            volume_ul=v,
            channel=ch,
            masses_mg=[(v + (bias_ul or {}).get(ch, 0.0) + 0.05 * d) / Z_20C for d in SPREAD],
            evaporation_per_cycle_mg=0.0,
        )
        for ch in range(1, channels + 1)
        for v in (100.0, 50.0, 10.0)
    ]
    env = EnvironmentSample(
        air_temp_c=20.0, water_temp_c=20.0, pressure_kpa=101.3, humidity_pct=humidity_pct
    )
    return GravimetricRun(
        run_id=uuid.uuid4(),
        mode=RunMode.CALIBRATION,
        phase=phase,  # type: ignore[arg-type]
        pipette=DeviceRef(
            type=DeviceType.PIPETTE, make="Acme", model=f"P100-{channels}ch", serial=serial
        ),
        nominal_volume_ul=100.0,
        channels=channels,
        balance=BALANCE,
        balance_readability_mg=0.001,
        environment=[env, env],
        test_volumes=volumes,
        operator="Tara Technician",
        started_at=ended_at - timedelta(hours=1),
        ended_at=ended_at,
        tip=Tip(make="Acme", model="T-200 filter tip", lot="L2026-11"),
        instruments=list(instruments),
        received_at=ended_at - timedelta(days=2),
    )


def set_profiles(world: World, *, next_due_asked: bool) -> None:
    profiles = world.services.certificates.profiles
    profiles.set_laboratory(world.provider.id, LAB)
    profiles.set_customer(world.a.tenant.id, CustomerProfile(CUSTOMER_ADDRESS, next_due_asked))


def certify_through_pipeline(world: World, *runs: GravimetricRun) -> list[Issued]:
    """Register the runs' pipettes (call once per world), ingest, record and certify the runs."""
    s, tenant = world.services, world.a.tenant.id
    db = s.db
    known: set[str] = set()
    for run in runs:
        p = run.pipette
        if p.serial not in known:
            s.registry.add(tenant, world.a.site.id, OrderItem(p.make, p.model, p.serial, 100))
            known.add(p.serial)
    repo = SqlEngineRepository(db)
    repo.set_balance_calibration(tenant, BALANCE.serial, datetime(2027, 6, 1, tzinfo=UTC))
    incoming = []
    for seq, run in enumerate(runs, start=1):
        env = Envelope(
            message_id=uuid.uuid4(),
            tenant=tenant,
            station="station-cert",
            seq=seq,
            edge_time=run.ended_at,
            clock="synced",
            payload=run,
        )
        topic = build_topic(env.tenant, env.station, env.kind)
        incoming.append(Incoming(topic, encode(env), run.ended_at + timedelta(seconds=1)))
    batch, _ = build_batch(incoming, lambda station: tenant)
    assert not batch.quarantine, batch.quarantine
    store = open_store(s.settings.database_url)
    try:
        store.write_batch(batch)
    finally:
        store.close()
    assert process_runs(repo, WebhookOutbox(db), now=world.clock).recorded == len(runs)
    result = certify(db, s.certificates, s.bookings, skip=set())
    assert result.failed == ()
    return list(result.issued)
