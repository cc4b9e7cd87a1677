"""What ``serve`` was asked to run (the flags, typed), and the errors that make it exit 2."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from labcal_cloud.serve.roles import ROLES

__all__ = ["ServeInputError", "ServeOptions"]


class ServeInputError(ValueError):
    """Bad input (data dir, role, port, settings): a clear message and exit code 2."""


@dataclass(frozen=True)
class ServeOptions:
    data_dir: Path
    roles: tuple[str, ...] = ROLES
    host: str = "127.0.0.1"
    port: int = 8000  # 0: a free port
    database_url: str | None = None  # None: sqlite:///DIR/labcal.sqlite3
    mqtt_url: str | None = None  # given: no broker is started, the roles use this one
    broker: str = "auto"  # auto | mosquitto | embedded
    broker_port: int = 1883  # 0: a free port
    keep_broker_state: bool = True  # Mosquitto keeps sessions and queued messages in DIR/broker
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    base_url: str | None = None  # None: http://HOST:PORT
    provider: str = "LabCal Service"  # the signing certificate's name, when serve makes one
    json_logs: bool = False
    ingest_client_id: str = "labcal-ingest-serve"
