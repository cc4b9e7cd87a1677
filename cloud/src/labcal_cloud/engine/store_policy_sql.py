"""The tenants' service policies and the service plan's inputs on SQLite or PostgreSQL (shell).

:class:`SqlServicePolicyStore` is the :class:`labcal_cloud.engine.ports.ServicePolicyStore`
adapter (table ``engine_service_policy``). :func:`visit_inputs` reads, per registered device,
what the service plan needs: its site, its last calibration (the engine's records, else the
registry's imported history) and its stored forecast.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from labcal_cloud.db.gateway import Database
from labcal_cloud.engine.service_policy import ServicePolicy, TargetKind
from labcal_cloud.engine.visit_plan import VisitInputs

__all__ = ["SqlServicePolicyStore", "visit_inputs"]


def _policy(row: tuple[object, ...]) -> ServicePolicy:
    at = Database.read_at(row[3])
    assert at is not None
    kind: TargetKind = "budget" if row[1] == "budget" else "days_out_of_tolerance"
    return ServicePolicy(str(row[0]), kind, float(str(row[2])), at, str(row[4] or ""))


class SqlServicePolicyStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        with self._db.transaction() as db:
            yield db

    _COLUMNS = "tenant, target, value, updated_at, updated_by"

    def service_policy(self, tenant: str) -> ServicePolicy | None:
        row = self._db.one(
            f"SELECT {self._COLUMNS} FROM engine_service_policy WHERE tenant = ?", (tenant,)
        )
        return None if row is None else _policy(tuple(row))

    def service_policies(self) -> dict[str, ServicePolicy]:
        rows = self._db.query(f"SELECT {self._COLUMNS} FROM engine_service_policy")
        return {str(r[0]): _policy(tuple(r)) for r in rows}

    def save_service_policy(self, policy: ServicePolicy) -> None:
        self._db.execute(
            """INSERT INTO engine_service_policy (tenant, target, value, updated_at, updated_by)
               VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant) DO UPDATE SET
                   target = EXCLUDED.target, value = EXCLUDED.value,
                   updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by""",
            (
                policy.tenant,
                policy.kind,
                policy.value,
                self._db.at(policy.updated_at),
                policy.updated_by,
            ),
        )

    def clear_service_policy(self, tenant: str) -> bool:
        return self._db.execute("DELETE FROM engine_service_policy WHERE tenant = ?", (tenant,)) > 0


def _float(value: object) -> float | None:
    return None if value is None else float(str(value))


def _when(value: object) -> datetime | None:
    return Database.read_at(value)


def visit_inputs(db: Database) -> list[VisitInputs]:
    """Every registered device of every customer with a site, for the service plan."""
    rows = db.query(
        """SELECT d.tenant_id, t.name, s.name, d.serial, d.model, d.last_calibrated_at,
                  (SELECT MAX(r.ended_at) FROM calibration_record r
                    WHERE r.tenant = d.tenant_id AND r.pipette_serial = d.serial
                      AND r.kind = 'calibration'),
                  f.alert, f.early_at, f.guard, f.alert_probability, f.lead_days,
                  f.probability_by_lead, f.reason
             FROM portal_devices d
             JOIN portal_sites s ON s.id = d.site_id
             JOIN portal_tenants t ON t.id = d.tenant_id
             LEFT JOIN maintenance_forecast f ON f.device_id = d.id
            ORDER BY t.name, s.name, d.serial"""
    )
    out = []
    for r in rows:
        recorded, imported = _when(r[6]), _when(r[5])
        last = max((t for t in (recorded, imported) if t is not None), default=None)
        out.append(
            VisitInputs(
                tenant=str(r[0]),
                site=f"{r[1]} / {r[2]}",
                serial=str(r[3]),
                model=str(r[4]),
                last_calibration=last,
                forecast_alert=None if r[7] is None else bool(r[7]),
                early_at=_when(r[8]),
                guard=_float(r[9]),
                alert_probability=_float(r[10]),
                lead_days=_float(r[11]),
                probability_by_lead=_float(r[12]),
                forecast_reason=None if r[13] is None else str(r[13]),
            )
        )
    return out
