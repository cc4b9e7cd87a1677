"""Typed payloads of LabCal messages, one model per message type.

Each payload carries a ``type`` tag, so an envelope's payload is a discriminated union that is
validated strictly (unknown fields, NaN/inf numbers and wrong types are refused). Masses are in mg
unless a ``unit`` field says otherwise; volumes in µL; temperatures in °C; pressure in kPa;
relative humidity in %.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal, Required
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
    with_config,
)
from typing_extensions import TypedDict

from labcal_shared.contracts.traceability import MeasuringInstrument, Tip

__all__ = [
    "BatchedReading",
    "DeviceEvent",
    "DeviceEventType",
    "DeviceRef",
    "DeviceStatus",
    "DeviceType",
    "EnvironmentSample",
    "EvaporationWeighings",
    "GravimetricRun",
    "MassUnit",
    "Payload",
    "Reading",
    "ReadingBatch",
    "ReadingStatus",
    "RunMode",
    "StationState",
    "StationStatus",
    "TestVolume",
    "UsageReport",
    "UsageTrigger",
]

Text = Annotated[str, Field(min_length=1, max_length=128)]
Finite = Annotated[float, Field(allow_inf_nan=False)]
Count = Annotated[int, Field(ge=0, lt=2**63)]


class ContractModel(BaseModel):
    """Base of every contract model: immutable, no unknown fields, no NaN or infinity."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class DeviceType(StrEnum):
    PIPETTE = "pipette"
    BALANCE = "balance"
    SENSOR = "sensor"
    SCANNER = "scanner"


class DeviceRef(ContractModel):
    """A device's identity: make, model and serial number."""

    type: DeviceType
    make: Text
    model: Text
    serial: Text


class UsageTrigger(StrEnum):
    CHANGE = "change"  # a counter moved since the last report
    PERIODIC = "periodic"  # heartbeat report, counters may be unchanged
    RESET = "reset"  # the since-service counter went back to zero (service)
    ROLLOVER = "rollover"  # a counter wrapped at the device's maximum


class UsageReport(ContractModel):
    """A smart pipette's cycle counters (the envelope's ``device`` is the pipette)."""

    type: Literal["usage_report"] = "usage_report"
    cycles_total: Count
    cycles_since_service: Count
    trigger: UsageTrigger = UsageTrigger.CHANGE
    volume_setting_ul: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None


class MassUnit(StrEnum):
    KG = "kg"
    G = "g"
    MG = "mg"
    UG = "ug"


class ReadingStatus(StrEnum):
    OK = "ok"
    OVERLOAD = "overload"
    UNDERLOAD = "underload"


def _status_error(status: ReadingStatus, value: float | None) -> str | None:
    """Why ``value`` does not fit ``status`` (a value when ok, null otherwise), or None."""
    if status is ReadingStatus.OK and value is None:
        return "value is required when status is 'ok'"
    if status is not ReadingStatus.OK and value is not None:
        return f"value must be null when status is {status.value!r}"
    return None


class Reading(ContractModel):
    """One balance value (the envelope's ``device`` is the balance)."""

    type: Literal["reading"] = "reading"
    value: Finite | None = None
    unit: MassUnit
    stable: bool
    status: ReadingStatus = ReadingStatus.OK
    run_id: UUID | None = None

    @model_validator(mode="after")
    def _value_matches_status(self) -> Reading:
        error = _status_error(self.status, self.value)
        if error:
            raise ValueError(error)
        return self


# A plain dict once validated, not a model: a batch carries up to 10,000 values, and building a
# frozen model per value cost four times its validation (the ingest profile in cloud/README.md).
# ReadingBatch's validator fills in the defaults, so a decoded value has every key.
@with_config(ConfigDict(extra="forbid", allow_inf_nan=False))
class BatchedReading(TypedDict, total=False):
    """One value inside a :class:`ReadingBatch`; ``device_time`` per value."""

    value: Annotated[Finite | None, Field(json_schema_extra={"default": None})]
    unit: Required[MassUnit]
    stable: Required[bool]
    status: Annotated[ReadingStatus, Field(json_schema_extra={"default": "ok"})]
    device_time: Annotated[AwareDatetime | None, Field(json_schema_extra={"default": None})]


class ReadingBatch(ContractModel):
    """Several values of one balance in one message."""

    type: Literal["reading_batch"] = "reading_batch"
    run_id: UUID | None = None
    readings: Annotated[list[BatchedReading], Field(min_length=1, max_length=10_000)]

    @field_validator("readings")
    @classmethod
    def _values_match_status(cls, readings: list[BatchedReading]) -> list[BatchedReading]:
        ok = ReadingStatus.OK
        for i, r in enumerate(readings):
            value = r.setdefault("value", None)
            status = r.setdefault("status", ok)
            r.setdefault("device_time", None)
            if (status is ok) is (value is None):
                raise ValueError(f"readings.{i}: {_status_error(status, value)}")
        return readings


class EnvironmentSample(ContractModel):
    """Conditions in the test room at one moment of a run."""

    at: AwareDatetime | None = None
    air_temp_c: Finite
    water_temp_c: Finite | None = None
    pressure_kpa: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    humidity_pct: Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]


class EvaporationWeighings(ContractModel):
    """Balance readings without delivery (ISO 8655-6:2022 clause 9.1), in mg."""

    m00_mg: Finite
    m0_mg: Finite
    mn_mg: Finite
    mn1_mg: Finite


class TestVolume(ContractModel):
    """One test volume of a run: the replicate masses delivered into the balance."""

    __test__ = False  # not a pytest test class

    volume_ul: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    channel: Annotated[int, Field(ge=1, le=384)] = 1
    masses_mg: Annotated[list[Finite], Field(min_length=1, max_length=1000)]
    evaporation: EvaporationWeighings | None = None
    evaporation_per_cycle_mg: Finite | None = None


class RunMode(StrEnum):
    CALIBRATION = "calibration"
    QUICK_CHECK = "quick_check"


class GravimetricRun(ContractModel):
    """A complete gravimetric test (ISO 8655-6) as measured at the station."""

    type: Literal["gravimetric_run"] = "gravimetric_run"
    run_id: UUID
    mode: RunMode
    phase: Literal["as_found", "as_left"] | None = None
    pipette: DeviceRef
    nominal_volume_ul: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    channels: Annotated[int, Field(ge=1, le=384)] = 1
    pipette_kind: Literal["air_displacement", "positive_displacement"] = "air_displacement"
    balance: DeviceRef
    balance_readability_mg: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    balance_standard_uncertainty_mg: Annotated[
        float | None,
        Field(
            ge=0,
            allow_inf_nan=False,
            description="the balance's own certified standard uncertainty (its calibration "
            "certificate), when the station knows it; else the ISO 8655-6 requirement table's "
            "maximum is used and stated",
        ),
    ] = None
    environment: Annotated[list[EnvironmentSample], Field(min_length=1, max_length=1000)]
    test_volumes: Annotated[list[TestVolume], Field(min_length=1, max_length=1000)]
    operator: Text
    started_at: AwareDatetime
    ended_at: AwareDatetime
    mpe_edition: Text = "ISO 8655-2:2002"
    water_density: Literal["tr20461", "tanaka2001"] = "tr20461"
    # what a certificate states beyond the results (ISO/IEC 17025 §7.8); all optional
    method: Text = "ISO 8655-6:2022, gravimetric method"
    tip: Tip | None = None
    instruments: Annotated[list[MeasuringInstrument], Field(max_length=16)] = []
    received_at: AwareDatetime | None = None  # when the item reached the laboratory

    @model_validator(mode="after")
    def _consistent(self) -> GravimetricRun:
        if self.pipette.type is not DeviceType.PIPETTE:
            raise ValueError(f"pipette.type must be 'pipette', not {self.pipette.type.value!r}")
        if self.balance.type is not DeviceType.BALANCE:
            raise ValueError(f"balance.type must be 'balance', not {self.balance.type.value!r}")
        if self.ended_at < self.started_at:
            raise ValueError("ended_at is before started_at")
        roles = [i.role for i in self.instruments]
        if len(set(roles)) != len(roles):
            raise ValueError("instruments: each role (balance, thermometer…) at most once")
        for i in self.instruments:
            if i.role.value == "balance" and i.serial != self.balance.serial:
                raise ValueError(
                    f"instruments: the balance {i.serial!r} is not the run's balance "
                    f"{self.balance.serial!r}"
                )
        return self


class DeviceEventType(StrEnum):
    DROP = "drop"
    ERROR = "error"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    LOW_BATTERY = "low_battery"
    SERVICE_RESET = "service_reset"
    COUNTER_ROLLOVER = "counter_rollover"


class DeviceEvent(ContractModel):
    """Something that happened to a device (the envelope's ``device``)."""

    type: Literal["device_event"] = "device_event"
    event: DeviceEventType
    code: Annotated[str, Field(max_length=64)] | None = None
    detail: Annotated[str, Field(max_length=1000)] = ""


class StationState(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"


class DeviceStatus(ContractModel):
    device: DeviceRef
    available: bool
    port: Annotated[str, Field(max_length=256)] | None = None


class StationStatus(ContractModel):
    """A station's state; published retained, with an ``offline`` Last Will."""

    type: Literal["station_status"] = "station_status"
    state: StationState
    agent_version: Annotated[str, Field(max_length=64)] = ""
    devices: Annotated[list[DeviceStatus], Field(max_length=256)] = []
    outbox_depth: Count = 0
    outbox_capacity: Count | None = None


Payload = Annotated[
    UsageReport | Reading | ReadingBatch | GravimetricRun | DeviceEvent | StationStatus,
    Field(discriminator="type"),
]
