"""Wires the pipeline's stages to their adapters on one database gateway (shell)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from labcal_cloud.engine.due import DuePolicy
from labcal_cloud.engine.events import DomainEvent, DueStateChangedEvent, EventPublisher
from labcal_cloud.engine.service import process_runs, refresh_due_states, refresh_forecasts
from labcal_cloud.engine.store_policy_sql import SqlServicePolicyStore
from labcal_cloud.engine.store_sql import SqlEngineRepository, SqlForecastStore
from labcal_cloud.pipeline.certify import certify
from labcal_cloud.pipeline.loop import Stages
from labcal_cloud.pipeline.usage import UsageProjection
from labcal_cloud.portal.app import build_services
from labcal_cloud.portal.settings import PortalSettings
from labcal_cloud.scheduler.due_planning import plan_due_reminder_steps
from labcal_cloud.scheduler.event_outbox import WebhookOutbox

__all__ = ["Assembly", "DueChanges", "build_stages"]


@dataclass(frozen=True, slots=True)
class Assembly:
    stages: Stages
    close: Callable[[], None]


def build_stages(url: str, policy: DuePolicy, *, now: Callable[[], datetime]) -> Assembly:
    """The stages on ``url``. Raises ValueError when a secret the pipeline needs is missing:
    the signing key (certificates) and the link secret (booking links in reminders)."""
    portal = replace(PortalSettings.from_env(), database_url=url)
    if not (portal.signing_key and portal.signing_cert):
        raise ValueError("set LABCAL_SIGNING_KEY and LABCAL_SIGNING_CERT to sign certificates")
    portal.require_link_secret()  # LinkSecretError (a ValueError) says what to set
    services = build_services(portal)
    db = services.db
    repo, forecasts, outbox = SqlEngineRepository(db), SqlForecastStore(db), WebhookOutbox(db)
    policies = SqlServicePolicyStore(db)  # the tenants' choices on the policy curve
    usage = UsageProjection(db, services.registry)
    skip: set[str] = set()

    def records() -> int:
        result = process_runs(repo, outbox, now=now)
        return result.recorded + result.rejected

    def certificates() -> list[str]:
        done = certify(db, services.certificates, services.bookings, skip=skip)
        return [i.describe() for i in done.issued] + [f"not certified: {f}" for f in done.failed]

    changes = DueChanges(outbox)

    def due() -> int:
        usage.project()  # the registry's usage weeks first, so pages agree with the due state
        changes.clear()
        return refresh_due_states(repo, changes, policy, now=now())

    def forecast() -> int:
        return refresh_forecasts(repo, forecasts, outbox, now=now(), policies=policies)

    def plan() -> int:
        result = plan_due_reminder_steps(
            db,
            now=now(),
            link_key=services.link_secret,
            booking_base_url=f"{portal.base_url}/book",
        )
        return result.added

    stages = Stages(records, certificates, due, forecast, plan, due_changed=changes.lines)
    return Assembly(stages, db.close)


class DueChanges:
    """The engine's publisher for the due stage: forwards every event to the outbox and keeps
    the changed devices of the pass by serial (``LP1000-0101 now due``) for the console."""

    def __init__(self, outbox: EventPublisher) -> None:
        self._outbox = outbox
        self._lines: list[str] = []

    def clear(self) -> None:
        self._lines = []

    def publish(self, event: DomainEvent) -> None:
        self._outbox.publish(event)
        if isinstance(event, DueStateChangedEvent):
            state = event.change.current.value.replace("_", " ")
            self._lines.append(f"{event.serial} now {state}")

    def lines(self) -> list[str]:
        return list(self._lines)
