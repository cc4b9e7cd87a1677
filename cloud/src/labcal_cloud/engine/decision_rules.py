"""Which decision rule judges a device's calibrations: per device, else per tenant, else simple
acceptance — stored on SQLite or PostgreSQL (table ``decision_rule``, migration 0105).

A device's rule is keyed by (tenant, serial), as the engine keys devices; the tenant's default
has the serial ``''``. Setting a rule changes how *new* runs are judged: stored records keep the
rule they were judged by (a different statement about a stored run is a correction record).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from labcal_cloud.db.gateway import Database
from labcal_shared.iso8655.verdict import DecisionRule

__all__ = ["DEFAULT_RULE", "RuleSetting", "SqlDecisionRules"]

DEFAULT_RULE = DecisionRule.SIMPLE


@dataclass(frozen=True, slots=True)
class RuleSetting:
    tenant: str
    device_serial: str  # '' = the tenant's default
    rule: DecisionRule
    updated_at: datetime


class SqlDecisionRules:
    def __init__(self, db: Database) -> None:
        self._db = db

    def set(
        self, tenant: str, rule: DecisionRule, at: datetime, *, device_serial: str = ""
    ) -> RuleSetting:
        """Set the tenant's default (``device_serial`` '') or one device's rule."""
        self._db.execute(
            """INSERT INTO decision_rule (tenant, device_serial, rule, updated_at)
               VALUES (?, ?, ?, ?) ON CONFLICT (tenant, device_serial)
               DO UPDATE SET rule = EXCLUDED.rule, updated_at = EXCLUDED.updated_at""",
            (tenant, device_serial, rule.value, self._db.at(at)),
        )
        return RuleSetting(tenant, device_serial, rule, at)

    def clear(self, tenant: str, *, device_serial: str = "") -> None:
        """Drop a device's own rule (it follows the tenant's again) or the tenant's default."""
        self._db.execute(
            "DELETE FROM decision_rule WHERE tenant = ? AND device_serial = ?",
            (tenant, device_serial),
        )

    def rule_for(self, tenant: str, device_serial: str) -> DecisionRule:
        """The device's own rule, else the tenant's, else :data:`DEFAULT_RULE`."""
        rows = self._db.query(
            "SELECT device_serial, rule FROM decision_rule WHERE tenant = ?"
            " AND device_serial IN (?, '')",
            (tenant, device_serial),
        )
        found = {str(serial): DecisionRule(rule) for serial, rule in rows}
        return found.get(device_serial) or found.get("") or DEFAULT_RULE

    def settings(self, tenant: str) -> list[RuleSetting]:
        rows = self._db.query(
            "SELECT tenant, device_serial, rule, updated_at FROM decision_rule"
            " WHERE tenant = ? ORDER BY device_serial",
            (tenant,),
        )
        out = []
        for t, serial, rule, at in rows:
            when = Database.read_at(at)
            assert when is not None
            out.append(RuleSetting(str(t), str(serial), DecisionRule(rule), when))
        return out
