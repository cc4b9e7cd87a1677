"""The agent's one TOML configuration file: typed settings, validated with clear errors.

``load_config(path)`` reads the file with :mod:`tomllib` and returns :class:`EdgeConfig`, or raises
:class:`~labcal_edge.errors.ConfigError` whose message names the file, the key and what was
expected. Unknown keys are errors (a typo must not silently fall back to a default).
"""

from __future__ import annotations

import tomllib
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from labcal_edge.errors import ConfigError
from labcal_shared.contracts import format_validation_error
from labcal_shared.contracts.topics import validate_identifier
from labcal_shared.errors import TopicError

__all__ = [
    "BalanceConfig",
    "ClockConfig",
    "EdgeConfig",
    "FullPolicy",
    "GravimetricConfig",
    "MqttConfig",
    "OutboxConfig",
    "PipetteConfig",
    "SerialDeviceConfig",
    "StationConfig",
    "TlsConfig",
    "UsageConfig",
    "load_config",
    "missing_files",
    "parse_config",
]

Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StationConfig(_Section):
    tenant: str
    id: str
    data_dir: Path = Path("/var/lib/labcal-edge")

    @model_validator(mode="after")
    def _identifiers(self) -> StationConfig:
        try:
            validate_identifier(self.tenant, "tenant")
            validate_identifier(self.id, "station id")
        except TopicError as exc:
            raise ValueError(str(exc)) from None
        return self


class TlsConfig(_Section):
    ca_file: Path
    cert_file: Path | None = None
    key_file: Path | None = None

    @model_validator(mode="after")
    def _pair(self) -> TlsConfig:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together (client certificate)")
        return self


class MqttConfig(_Section):
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 1883
    client_id: str | None = None
    username: str | None = None
    password: str | None = None
    password_file: Path | None = None
    tls: TlsConfig | None = None
    keepalive_s: Annotated[int, Field(ge=5, le=3600)] = 30
    session_expiry_s: Annotated[int, Field(ge=0)] = 7 * 24 * 3600
    protocol: Literal["5", "3.1.1"] = "5"  # 3.1.1 for brokers without MQTT 5 (e.g. amqtt)
    max_inflight: Annotated[int, Field(ge=1, le=65535)] = 500
    read_batch: Annotated[int, Field(ge=1, le=100_000)] = 1000
    reconnect_base_s: Positive = 0.5
    reconnect_cap_s: Positive = 30.0
    status_interval_s: Positive = 60.0
    # keep a message until the cloud's storage receipt names it, not just the broker's PUBACK
    # (see labcal_shared.contracts.receipts); resend after receipt_timeout_s (doubling, max 16x)
    storage_receipts: bool = False
    receipt_timeout_s: Positive = 60.0
    # a PUBACK "no matching subscribers" (0x10): the broker dropped it; resend after this long
    no_subscriber_retry_s: Positive = 5.0

    @model_validator(mode="after")
    def _auth(self) -> MqttConfig:
        if self.password is not None and self.password_file is not None:
            raise ValueError("give either password or password_file, not both")
        if (self.password is not None or self.password_file is not None) and not self.username:
            raise ValueError("a password needs a username")
        if self.reconnect_cap_s < self.reconnect_base_s:
            raise ValueError("reconnect_cap_s must be >= reconnect_base_s")
        return self


class FullPolicy(StrEnum):
    BLOCK = "block"  # producers wait (up to block_timeout_s, then OutboxFullError)
    DROP_OLDEST = "drop_oldest"  # oldest message is dropped, counted and alerted
    REFUSE = "refuse"  # the new message is refused with OutboxFullError (and an alert)


class OutboxConfig(_Section):
    path: Path | None = None  # default: <data_dir>/outbox.sqlite3
    capacity: Annotated[int, Field(ge=1)] = 1_000_000
    policy: FullPolicy = FullPolicy.BLOCK
    block_timeout_s: Positive = 30.0
    synchronous: Literal["full", "normal"] = "full"


class ClockConfig(_Section):
    ntp: Literal["auto", "timedatectl", "adjtimex", "none"] = "auto"


class SerialDeviceConfig(_Section):
    name: str
    port: str  # /dev/serial/by-id/..., or a pyserial URL (socket://, loop://)
    baudrate: Annotated[int, Field(gt=0)] = 9600
    bytesize: Literal[7, 8] = 8
    parity: Literal["N", "E", "O"] = "N"
    stopbits: Literal[1, 2] = 1
    xonxoff: bool = False
    rtscts: bool = False
    timeout_s: Positive = 2.0
    make: str | None = None
    model: str | None = None
    serial: str | None = None


class BalanceConfig(SerialDeviceConfig):
    dialect: Literal["auto", "mt-sics", "sbi", "and"] = "auto"
    readability_mg: Positive | None = None  # default: from the reply's decimal places
    poll_s: Positive | None = None  # `run`: publish a reading every poll_s seconds (None: never)
    # `run`: with poll_s, send the values as one reading_batch message per `batch` readings
    # (values not yet in a committed batch are not kept across a restart); None: one each
    batch: Annotated[int, Field(ge=1, le=10_000)] | None = None


class PipetteConfig(SerialDeviceConfig):
    pass


class UsageConfig(_Section):
    poll_interval_s: Positive = 5.0
    periodic_s: Positive = 3600.0


class GravimetricConfig(_Section):
    operator: str = "operator"
    replicates: Annotated[int, Field(ge=1, le=100)] = 10
    quick_check_replicates: Annotated[int, Field(ge=1, le=100)] = 4
    stable_timeout_s: Positive = 30.0
    outlier_limit_pct: Positive = 5.0  # replicate this far from the target is flagged
    mpe_edition: str = "ISO 8655-2:2002"
    delivery_wait_s: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 10.0  # after the run


class EdgeConfig(_Section):
    station: StationConfig
    mqtt: MqttConfig = MqttConfig()
    outbox: OutboxConfig = OutboxConfig()
    clock: ClockConfig = ClockConfig()
    usage: UsageConfig = UsageConfig()
    gravimetric: GravimetricConfig = GravimetricConfig()
    balance: list[BalanceConfig] = []
    pipette: list[PipetteConfig] = []
    scanner: SerialDeviceConfig | None = None
    environment: SerialDeviceConfig | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @model_validator(mode="after")
    def _unique_names(self) -> EdgeConfig:
        names = [d.name for d in self.balance] + [d.name for d in self.pipette]
        names += [d.name for d in (self.scanner, self.environment) if d is not None]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"device names must be unique; repeated: {', '.join(dupes)}")
        return self

    @property
    def outbox_path(self) -> Path:
        return self.outbox.path or self.station.data_dir / "outbox.sqlite3"

    @property
    def client_id(self) -> str:
        return self.mqtt.client_id or f"labcal-edge-{self.station.tenant}-{self.station.id}"


def missing_files(config: EdgeConfig) -> list[str]:
    """Files the configuration names that do not exist here (warnings for check-config)."""
    named: list[tuple[str, Path | None]] = [("mqtt.password_file", config.mqtt.password_file)]
    if config.mqtt.tls is not None:
        tls = config.mqtt.tls
        named += [
            ("mqtt.tls.ca_file", tls.ca_file),
            ("mqtt.tls.cert_file", tls.cert_file),
            ("mqtt.tls.key_file", tls.key_file),
        ]
    return [f"{key} {path} does not exist" for key, path in named if path and not path.exists()]


def parse_config(text: str, source: str = "<config>") -> EdgeConfig:
    """Validate TOML text; :class:`ConfigError` names ``source`` and the offending keys."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    try:
        return EdgeConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{source}: {format_validation_error(exc)}") from None


def load_config(path: Path | str) -> EdgeConfig:
    """Read and validate the configuration file at ``path``."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read the configuration file: {exc.strerror}") from None
    return parse_config(text, str(p))
