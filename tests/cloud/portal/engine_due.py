"""Run the engine's due stage on a portal test world's database (the one due state), and
store engine records for registered devices."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from labcal_cloud.engine.due import DuePolicy
from labcal_cloud.engine.events import DomainEvent
from labcal_cloud.engine.records import record_from_run
from labcal_cloud.engine.service import refresh_due_states
from labcal_cloud.engine.store_sql import SqlEngineRepository
from labcal_shared.contracts import GravimetricRun

from .helpers import World, sample_run


class EventList:
    """A recording publisher at the engine's port."""

    def __init__(self) -> None:
        self.events: list[DomainEvent] = []

    def publish(self, event: DomainEvent) -> None:
        self.events.append(event)


def compute_due_states(world: World, policy: DuePolicy | None = None) -> int:
    """``labcal-cloud engine due`` on the world's database at the world's clock."""
    repo = SqlEngineRepository(world.services.db)
    return refresh_due_states(repo, EventList(), policy or DuePolicy(), now=world.clock())


def store_engine_record(
    world: World, tenant_id: str, serial: str, ended_at: datetime, *, bias_mg: float = 0.0
) -> bool:
    """An engine calibration record of the pipette ``serial``; returns whether it passed."""
    run = GravimetricRun.model_validate(sample_run(serial, ended_at=ended_at, bias_mg=bias_mg))
    record = record_from_run(
        run,
        record_id=uuid.uuid4(),
        recorded_at=ended_at,
        balance_valid_until=ended_at + timedelta(days=365),
        balance_known=True,
    )
    SqlEngineRepository(world.services.db).save_record(tenant_id, None, record)
    return record.passed
