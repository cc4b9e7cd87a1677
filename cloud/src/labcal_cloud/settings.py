"""Typed settings of the cloud processes, read from ``LABCAL_*`` environment variables.

Command-line options override them. Secrets have no defaults, and obvious placeholders
(``changeme``...) are refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from labcal_cloud.ingest.limits import MAX_BATCH, MAX_BATCH_BYTES

__all__ = ["Settings", "SettingsError"]

_PLACEHOLDERS = {"changeme", "change-me", "secret", "password", "token", "xxx"}


class SettingsError(ValueError):
    """A setting is missing, malformed or a placeholder."""


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = "sqlite:///labcal.sqlite3"
    mqtt_url: str = "mqtt://127.0.0.1:1883"
    mqtt_username: str | None = None
    mqtt_password: str | None = None
    mqtt_ca_file: str | None = None
    mqtt_protocol: str = "5"  # "3.1.1" for brokers without MQTT 5 (then one ingest worker only)
    ingest_group: str = "ingest"
    ingest_tenant_filter: str = "+"
    ingest_client_id: str = "labcal-ingest-1"
    ingest_max_batch: int = MAX_BATCH
    ingest_max_batch_bytes: int = MAX_BATCH_BYTES
    ingest_committers: int = 0  # batches committing at once; 0: 2 on PostgreSQL, 1 on SQLite
    ingest_session_expiry_s: int = 3600
    ingest_receive_maximum: int = 10_000
    ingest_storage_receipts: bool = True  # publish storage receipts to the stations after commit
    influx_url: str | None = None
    influx_token: str | None = None
    influx_org: str = "labcal"
    influx_bucket: str = "readings"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get("LABCAL_" + f.name.upper())
            if raw is None or raw == "":
                continue
            if f.type == "int":
                try:
                    values[f.name] = int(raw)
                except ValueError:
                    raise SettingsError(
                        f"LABCAL_{f.name.upper()} must be an integer, got {raw!r}"
                    ) from None
            elif f.type == "bool":
                flag = raw.strip().lower()
                if flag not in ("1", "true", "yes", "0", "false", "no"):
                    raise SettingsError(
                        f"LABCAL_{f.name.upper()} must be true or false, got {raw!r}"
                    )
                values[f.name] = flag in ("1", "true", "yes")
            else:
                values[f.name] = raw
        return cls(**values).checked()

    def override(self, **changes: Any) -> Settings:
        """A copy with the non-None ``changes`` applied (command-line options)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None}).checked()

    def checked(self) -> Settings:
        for name in ("mqtt_password", "influx_token"):
            value = getattr(self, name)
            if value is not None and value.strip().lower() in _PLACEHOLDERS:
                raise SettingsError(f"LABCAL_{name.upper()} is a placeholder; set a real secret")
        if self.influx_url and not self.influx_token:
            raise SettingsError("LABCAL_INFLUX_URL is set but LABCAL_INFLUX_TOKEN is not")
        if self.mqtt_protocol not in ("5", "3.1.1"):
            raise SettingsError(
                f"LABCAL_MQTT_PROTOCOL must be 5 or 3.1.1, got {self.mqtt_protocol!r}"
            )
        if self.ingest_committers < 0:
            raise SettingsError("LABCAL_INGEST_COMMITTERS must be >= 0 (0: automatic)")
        for name in ("ingest_max_batch", "ingest_max_batch_bytes", "ingest_receive_maximum"):
            if getattr(self, name) < 1:
                raise SettingsError(f"LABCAL_{name.upper()} must be >= 1")
        return self
