"""The engine's repository on PostgreSQL (shell): reads the ingest's ``runs``,
``usage_reports`` and ``device_events``; writes records, rejections and due states."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb

from labcal_cloud.engine.due import DueBasis, DueState, DueStateChanged, DueStatus
from labcal_cloud.engine.forecast import MaintenanceForecast
from labcal_cloud.engine.ports import DeviceInputs, PendingRun
from labcal_cloud.engine.record_codec import record_from_json, record_to_json
from labcal_cloud.engine.records import CalibrationRecord
from labcal_cloud.notify.webhooks import WebhookEvent, webhook_body

__all__ = ["PostgresEngineRepository", "PostgresForecastStore", "WebhookPublisher"]


class PostgresEngineRepository:
    def __init__(self, url: str) -> None:
        self._conn: psycopg.Connection[Any] = psycopg.connect(url, autocommit=True)

    def close(self) -> None:
        self._conn.close()

    def unrecorded_runs(self, limit: int) -> list[PendingRun]:
        rows = self._conn.execute(
            """SELECT r.message_id, r.tenant, r.payload_json FROM runs r
               WHERE NOT EXISTS (SELECT 1 FROM calibration_record c
                                 WHERE c.run_message_id = r.message_id)
                 AND NOT EXISTS (SELECT 1 FROM calibration_run_rejection x
                                 WHERE x.run_message_id = r.message_id)
               ORDER BY r.ended_at, r.message_id LIMIT %s""",
            (limit,),
        ).fetchall()
        return [PendingRun(m, t, p if isinstance(p, dict) else json.loads(p)) for m, t, p in rows]

    def balance_valid_until(self, tenant: str, serial: str) -> tuple[bool, datetime | None]:
        row = self._conn.execute(
            "SELECT valid_until FROM balance_calibration WHERE tenant = %s AND balance_serial = %s",
            (tenant, serial),
        ).fetchone()
        return (False, None) if row is None else (True, row[0])

    def set_balance_calibration(
        self, tenant: str, serial: str, valid_until: datetime | None
    ) -> None:
        self._conn.execute(
            """INSERT INTO balance_calibration VALUES (%s, %s, %s)
               ON CONFLICT (tenant, balance_serial)
               DO UPDATE SET valid_until = EXCLUDED.valid_until""",
            (tenant, serial, valid_until),
        )

    def save_record(self, tenant: str, message_id: UUID | None, record: CalibrationRecord) -> None:
        self._conn.execute(
            """INSERT INTO calibration_record (record_id, tenant, run_message_id, run_id, kind,
                   phase, pipette_serial, pipette_model, balance_serial, balance_in_calibration,
                   operator, started_at, ended_at, recorded_at, mpe_edition, passed,
                   conformity_claimable, supersedes, correction_reason, record_json)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,
                       %s, %s)""",
            (
                record.record_id,
                tenant,
                message_id,
                record.run_id,
                record.kind,
                record.phase,
                record.pipette.serial,
                record.pipette.model,
                record.balance.serial,
                record.balance_in_calibration,
                record.operator,
                record.started_at,
                record.ended_at,
                record.recorded_at,
                record.mpe_edition,
                record.passed,
                record.conformity_claimable,
                record.supersedes,
                record.correction_reason,
                Jsonb(record_to_json(record)),
            ),
        )

    def reject_run(self, tenant: str, message_id: UUID, reason: str, at: datetime) -> None:
        self._conn.execute(
            "INSERT INTO calibration_run_rejection VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
            (message_id, tenant, reason[:2000], at),
        )

    def pipettes(self) -> list[tuple[str, str]]:
        rows = self._conn.execute(
            """SELECT tenant, device_serial FROM usage_reports
               UNION SELECT tenant, pipette_serial FROM calibration_record ORDER BY 1, 2"""
        ).fetchall()
        return [(t, s) for t, s in rows]

    def device_inputs(self, tenant: str, serial: str) -> DeviceInputs:
        records = tuple(
            record_from_json(r[0])
            for r in self._conn.execute(
                "SELECT record_json FROM calibration_record WHERE tenant = %s "
                "AND pipette_serial = %s",
                (tenant, serial),
            ).fetchall()
        )
        usage_rows = self._conn.execute(
            "SELECT time, cycles_total, cycles_since_service, device_model FROM usage_reports "
            "WHERE tenant = %s AND device_serial = %s ORDER BY time",
            (tenant, serial),
        ).fetchall()
        usage = tuple((t, int(c)) for t, c, _, _ in usage_rows)
        since_service = tuple((t, int(c)) for t, _, c, _ in usage_rows)
        model = usage_rows[-1][3] if usage_rows else (records[-1].pipette.model if records else "")
        drops = tuple(
            r[0]
            for r in self._conn.execute(
                "SELECT time FROM device_events WHERE tenant = %s AND device_serial = %s "
                "AND event = 'drop'",
                (tenant, serial),
            ).fetchall()
        )
        first = [t for t, _ in usage[:1]] + [r.started_at for r in records]
        if not first:
            raise LookupError(f"pipette {serial} of tenant {tenant} has no usage and no record")
        return DeviceInputs(min(first), records, usage, drops, model, since_service)

    def due_state(self, tenant: str, serial: str) -> DueState | None:
        row = self._conn.execute(
            "SELECT status, basis, due_at, reason FROM device_due_state "
            "WHERE tenant = %s AND device_serial = %s",
            (tenant, serial),
        ).fetchone()
        if row is None:
            return None
        return DueState(DueStatus(row[0]), DueBasis(row[1]), row[2], row[3])

    def save_due_state(
        self, tenant: str, serial: str, state: DueState, change: DueStateChanged | None
    ) -> None:
        with self._conn.transaction():
            self._conn.execute(
                """INSERT INTO device_due_state VALUES (%s, %s, %s, %s, %s, %s, now())
                   ON CONFLICT (tenant, device_serial) DO UPDATE SET status = EXCLUDED.status,
                       basis = EXCLUDED.basis, due_at = EXCLUDED.due_at,
                       reason = EXCLUDED.reason, updated_at = EXCLUDED.updated_at""",
                (tenant, serial, state.status.value, state.basis.value, state.due_at, state.reason),
            )
            if change is not None:
                self._conn.execute(
                    """INSERT INTO due_state_event (tenant, device_serial, at, previous, current,
                           basis, due_at, reason) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)""",
                    (
                        tenant,
                        serial,
                        change.at,
                        None if change.previous is None else change.previous.value,
                        change.current.value,
                        change.basis.value,
                        change.due_at,
                        change.reason,
                    ),
                )


class PostgresForecastStore:
    def __init__(self, url: str) -> None:
        self._conn: psycopg.Connection[Any] = psycopg.connect(url, autocommit=True)

    def close(self) -> None:
        self._conn.close()

    def forecast_alert(self, tenant: str, serial: str) -> bool | None:
        row = self._conn.execute(
            "SELECT alert FROM maintenance_forecast WHERE tenant = %s AND device_serial = %s",
            (tenant, serial),
        ).fetchone()
        return None if row is None else bool(row[0])

    def save_forecast(
        self, tenant: str, serial: str, forecast: MaintenanceForecast, at: datetime
    ) -> None:
        self._conn.execute(
            """INSERT INTO maintenance_forecast VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
               ON CONFLICT (tenant, device_serial) DO UPDATE SET
                   computed_at = EXCLUDED.computed_at, guard = EXCLUDED.guard,
                   alert = EXCLUDED.alert, early_at = EXCLUDED.early_at,
                   median_at = EXCLUDED.median_at, late_at = EXCLUDED.late_at,
                   reason = EXCLUDED.reason""",
            (
                tenant,
                serial,
                at,
                forecast.guard,
                forecast.alert,
                forecast.early_at,
                forecast.median_at,
                forecast.late_at,
                forecast.reason,
            ),
        )


class WebhookPublisher:
    """Publishes engine events into the webhook outbox (``webhook_delivery``)."""

    def __init__(self, url: str) -> None:
        from labcal_cloud.scheduler.webhook_store import PostgresWebhookStore

        self._store = PostgresWebhookStore(url)

    def close(self) -> None:
        self._store.close()

    def publish(
        self, tenant: str, event_type: str, event_id: str, data: dict[str, Any], at: datetime
    ) -> None:
        body = webhook_body(WebhookEvent(event_type), event_id, at, tenant, data)
        self._store.publish(tenant, event_type, event_id, body, at)
