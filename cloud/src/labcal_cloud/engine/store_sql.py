"""The engine's repository and forecast store on SQLite or PostgreSQL (shell), through the one
SQL gateway (:class:`labcal_cloud.db.gateway.Database`).

Reads the ingest's ``runs``, ``usage_reports`` and ``device_events`` and the registry's
``portal_devices`` (the devices to follow, their policy and imported history); writes records,
rejections, due states with their change log, and forecasts. ``transaction()`` is the
gateway's: a publisher on the same :class:`Database` joins it (one unit of work).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from labcal_cloud.db.gateway import Database, placeholders
from labcal_cloud.engine.budget_sql import save_budget
from labcal_cloud.engine.decision_rules import SqlDecisionRules
from labcal_cloud.engine.due import DueBasis, DueState, DueStateChanged, DueStatus
from labcal_cloud.engine.forecast import MaintenanceForecast
from labcal_cloud.engine.ports import DeviceInputs, EngineDevice, PendingRun
from labcal_cloud.engine.record_codec import record_from_json, record_to_json
from labcal_cloud.engine.records import CalibrationRecord
from labcal_cloud.engine.tolerance_tables import SqlToleranceTables
from labcal_shared.iso8655.tolerance import ToleranceTable
from labcal_shared.iso8655.verdict import DecisionRule

__all__ = ["SqlEngineRepository", "SqlForecastStore"]


def _at(value: object) -> datetime:
    at = Database.read_at(value)
    assert at is not None
    return at


def _json(value: object) -> dict[str, Any]:
    """A JSON column: PostgreSQL's JSONB arrives decoded, SQLite's text does not."""
    data = value if isinstance(value, dict) else json.loads(str(value))
    assert isinstance(data, dict)
    return data


Key = tuple[str, str]  # (tenant, serial)


def _by_tenant(keys: Sequence[Key]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = defaultdict(list)
    for tenant, serial in dict.fromkeys(keys):
        grouped[tenant].append(serial)
    return grouped


def _inputs(
    found: list[CalibrationRecord],
    rows: list[tuple[datetime, int, int, str]],
    drop_times: list[datetime],
) -> DeviceInputs:
    records = tuple(sorted(found, key=lambda r: (r.ended_at, r.recorded_at)))
    rows = sorted(rows)
    usage = tuple((t, c) for t, c, _, _ in rows)
    since_service = tuple((t, c) for t, _, c, _ in rows)
    model = rows[-1][3] if rows else (records[-1].pipette.model if records else "")
    first = [t for t, _ in usage[:1]] + [r.started_at for r in records]
    return DeviceInputs(
        min(first) if first else None,
        records,
        usage,
        tuple(sorted(drop_times)),
        model,
        since_service,
    )


class _SqlStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        """One unit of work on the gateway (nested blocks and publishers on ``db`` join it)."""
        with self._db.transaction() as db:
            yield db

    def _uuid(self, value: UUID | None) -> UUID | str | None:
        """A UUID parameter: a UUID for PostgreSQL's ``uuid`` columns, text for SQLite."""
        if value is None:
            return None
        return value if self._db.is_postgres else str(value)


class SqlEngineRepository(_SqlStore):
    """:class:`labcal_cloud.engine.ports.EngineRepository` for SQLite and PostgreSQL."""

    def unrecorded_runs(self, limit: int) -> list[PendingRun]:
        rows = self._db.query(
            """SELECT r.message_id, r.tenant, r.payload_json FROM runs r
               WHERE NOT EXISTS (SELECT 1 FROM calibration_record c
                                 WHERE c.run_message_id = r.message_id)
                 AND NOT EXISTS (SELECT 1 FROM calibration_run_rejection x
                                 WHERE x.run_message_id = r.message_id)
               ORDER BY r.ended_at, r.message_id LIMIT ?""",
            (limit,),
        )
        return [PendingRun(UUID(str(m)), t, _json(p)) for m, t, p in rows]

    def balance_valid_until(self, tenant: str, serial: str) -> tuple[bool, datetime | None]:
        row = self._db.one(
            "SELECT valid_until FROM balance_calibration WHERE tenant = ? AND balance_serial = ?",
            (tenant, serial),
        )
        return (False, None) if row is None else (True, Database.read_at(row[0]))

    def set_balance_calibration(
        self, tenant: str, serial: str, valid_until: datetime | None
    ) -> None:
        self._db.execute(
            """INSERT INTO balance_calibration (tenant, balance_serial, valid_until)
               VALUES (?, ?, ?) ON CONFLICT (tenant, balance_serial)
               DO UPDATE SET valid_until = EXCLUDED.valid_until""",
            (tenant, serial, self._db.at(valid_until)),
        )

    def decision_rule(self, tenant: str, serial: str) -> DecisionRule:
        return SqlDecisionRules(self._db).rule_for(tenant, serial)

    def tolerance_table(self, tenant: str, serial: str, edition: str) -> ToleranceTable | None:
        return SqlToleranceTables(self._db).table_for(tenant, serial, edition)

    def save_record(self, tenant: str, message_id: UUID | None, record: CalibrationRecord) -> None:
        at = self._db.at
        with self._db.transaction():  # the record and its budget rows together
            self._db.execute(
                """INSERT INTO calibration_record (record_id, tenant, run_message_id, run_id, kind,
                       phase, pipette_serial, pipette_model, balance_serial, balance_in_calibration,
                       operator, started_at, ended_at, recorded_at, mpe_edition, passed,
                       conformity_claimable, supersedes, correction_reason, record_json, verdict,
                       decision_rule, tolerance_table)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    self._uuid(record.record_id),
                    tenant,
                    self._uuid(message_id),
                    self._uuid(record.run_id),
                    record.kind,
                    record.phase,
                    record.pipette.serial,
                    record.pipette.model,
                    record.balance.serial,
                    record.balance_in_calibration,
                    record.operator,
                    at(record.started_at),
                    at(record.ended_at),
                    at(record.recorded_at),
                    record.mpe_edition,
                    record.passed,
                    record.conformity_claimable,
                    self._uuid(record.supersedes),
                    record.correction_reason,
                    json.dumps(record_to_json(record)),
                    record.verdict.value,
                    record.decision_rule.value,
                    record.tolerance_table,
                ),
            )
            save_budget(self._db, record)

    def reject_run(self, tenant: str, message_id: UUID, reason: str, at: datetime) -> None:
        self._db.execute(
            "INSERT INTO calibration_run_rejection (run_message_id, tenant, reason, at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (self._uuid(message_id), tenant, reason[:2000], self._db.at(at)),
        )

    def devices(self) -> list[EngineDevice]:
        found: dict[tuple[str, str], EngineDevice] = {}
        for r in self._db.query(
            "SELECT id, tenant_id, serial, registered_at, interval_days, last_calibrated_at,"
            " usage_cycles, cycles_limit FROM portal_devices WHERE tenant_id IS NOT NULL"
            " ORDER BY tenant_id, serial, id"
        ):
            key = (str(r[1]), str(r[2]))
            if key in found:
                continue  # one due state per (tenant, serial): the first registration wins
            found[key] = EngineDevice(
                tenant=key[0],
                serial=key[1],
                device_id=str(r[0]),
                registered_at=Database.read_at(r[3]) if r[3] else None,
                interval_days=float(r[4]) if r[4] else None,
                cycle_limit=int(r[7]) if r[7] and int(r[7]) > 0 else None,
                last_calibrated_at=Database.read_at(r[5]) if r[5] else None,
                usage_cycles=int(r[6] or 0),
            )
        for tenant, serial in self._db.query(
            """SELECT tenant, device_serial FROM usage_reports
               UNION SELECT tenant, pipette_serial FROM calibration_record ORDER BY 1, 2"""
        ):
            found.setdefault((tenant, serial), EngineDevice(tenant, serial))
        return list(found.values())

    def device_inputs(self, tenant: str, serial: str) -> DeviceInputs:
        return self.device_inputs_many([(tenant, serial)])[(tenant, serial)]

    def device_inputs_many(self, keys: Sequence[Key]) -> dict[Key, DeviceInputs]:
        """The inputs of these devices: three queries per tenant (records, usage, drops)."""
        records: dict[Key, list[CalibrationRecord]] = defaultdict(list)
        usage: dict[Key, list[tuple[datetime, int, int, str]]] = defaultdict(list)
        drops: dict[Key, list[datetime]] = defaultdict(list)
        for tenant, serials in _by_tenant(keys).items():
            inside = placeholders(len(serials))
            for serial, data in self._db.query(
                "SELECT pipette_serial, record_json FROM calibration_record"
                f" WHERE tenant = ? AND pipette_serial IN ({inside})",
                (tenant, *serials),
            ):
                records[(tenant, serial)].append(record_from_json(_json(data)))
            for serial, t, total, since, model in self._db.query(
                "SELECT device_serial, time, cycles_total, cycles_since_service, device_model"
                f" FROM usage_reports WHERE tenant = ? AND device_serial IN ({inside})",
                (tenant, *serials),
            ):
                usage[(tenant, serial)].append((_at(t), int(total), int(since), str(model)))
            for serial, t in self._db.query(
                "SELECT device_serial, time FROM device_events WHERE tenant = ?"
                f" AND device_serial IN ({inside}) AND event = 'drop'",
                (tenant, *serials),
            ):
                drops[(tenant, serial)].append(_at(t))
        return {key: _inputs(records[key], usage[key], drops[key]) for key in keys}

    def due_state(self, tenant: str, serial: str) -> DueState | None:
        return self.due_states_many([(tenant, serial)]).get((tenant, serial))

    def due_states_many(self, keys: Sequence[Key]) -> dict[Key, DueState]:
        found: dict[Key, DueState] = {}
        for tenant, serials in _by_tenant(keys).items():
            for serial, status, basis, due_at, reason in self._db.query(
                "SELECT device_serial, status, basis, due_at, reason FROM device_due_state"
                f" WHERE tenant = ? AND device_serial IN ({placeholders(len(serials))})",
                (tenant, *serials),
            ):
                found[(tenant, serial)] = DueState(
                    DueStatus(status), DueBasis(basis), _at(due_at), reason
                )
        return found

    def save_due_state(
        self,
        tenant: str,
        serial: str,
        state: DueState,
        change: DueStateChanged | None,
        *,
        device_id: str | None = None,
        at: datetime | None = None,
    ) -> None:
        """Store the state and its change event (one transaction); ``at`` is the time it was
        computed (``updated_at``; default: the change's time, else the clock)."""
        at_ = self._db.at
        updated = at or (change.at if change is not None else datetime.now(UTC))
        with self._db.transaction():
            self._db.execute(
                """INSERT INTO device_due_state (tenant, device_serial, status, basis, due_at,
                       reason, updated_at, device_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (tenant, device_serial) DO UPDATE SET status = EXCLUDED.status,
                       basis = EXCLUDED.basis, due_at = EXCLUDED.due_at,
                       reason = EXCLUDED.reason, updated_at = EXCLUDED.updated_at,
                       device_id = EXCLUDED.device_id""",
                (
                    tenant,
                    serial,
                    state.status.value,
                    state.basis.value,
                    at_(state.due_at),
                    state.reason,
                    at_(updated),
                    device_id,
                ),
            )
            if change is not None:
                self._db.execute(
                    """INSERT INTO due_state_event (tenant, device_serial, at, previous, current,
                           basis, due_at, reason, device_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                    (
                        tenant,
                        serial,
                        at_(change.at),
                        None if change.previous is None else change.previous.value,
                        change.current.value,
                        change.basis.value,
                        at_(change.due_at),
                        change.reason,
                        device_id,
                    ),
                )


class SqlForecastStore(_SqlStore):
    """:class:`labcal_cloud.engine.ports.ForecastStore` for SQLite and PostgreSQL."""

    def forecast_alert(self, tenant: str, serial: str) -> bool | None:
        row = self._db.one(
            "SELECT alert FROM maintenance_forecast WHERE tenant = ? AND device_serial = ?",
            (tenant, serial),
        )
        return None if row is None else bool(row[0])

    def save_forecast(
        self,
        tenant: str,
        serial: str,
        forecast: MaintenanceForecast,
        at: datetime,
        *,
        device_id: str | None = None,
    ) -> None:
        at_ = self._db.at
        self._db.execute(
            """INSERT INTO maintenance_forecast (tenant, device_serial, computed_at, guard, alert,
                   early_at, median_at, late_at, reason, device_id, alert_probability,
                   lead_days, probability_by_lead)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (tenant, device_serial) DO UPDATE SET
                   computed_at = EXCLUDED.computed_at, guard = EXCLUDED.guard,
                   alert = EXCLUDED.alert, early_at = EXCLUDED.early_at,
                   median_at = EXCLUDED.median_at, late_at = EXCLUDED.late_at,
                   reason = EXCLUDED.reason, device_id = EXCLUDED.device_id,
                   alert_probability = EXCLUDED.alert_probability,
                   lead_days = EXCLUDED.lead_days,
                   probability_by_lead = EXCLUDED.probability_by_lead""",
            (
                tenant,
                serial,
                at_(at),
                forecast.guard,
                forecast.alert,
                at_(forecast.early_at),
                at_(forecast.median_at),
                at_(forecast.late_at),
                forecast.reason,
                device_id,
                forecast.alert_probability,
                forecast.lead_days,
                forecast.probability_by_lead,
            ),
        )
