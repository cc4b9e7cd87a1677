"""The exception hierarchy of ``labcal_shared``.

Every error raised by the shared package derives from :class:`LabCalError`, so callers at a
boundary (ingest worker, edge driver, CLI) can translate them in one place. Messages are written
for a person: they name the field or the input and say what was expected.

    LabCalError
    ├── ContractError          a message or topic does not meet the contract
    │   ├── TopicError         a topic string is not ``labcal/v1/{tenant}/{station}/{kind}``
    │   ├── UnsupportedVersionError   an envelope's schema version is unknown
    │   └── DecodeError        JSON that is not a valid envelope/payload
    ├── ProtocolError          a balance/pipette line that the codec cannot parse
    └── Iso8655Error           calibration math was asked something it must refuse
        ├── MeasurementInputError   negative/NaN mass, empty run, unknown unit, bad conditions
        └── UnknownEditionError     judging against an MPE edition whose table is not shipped
"""

from __future__ import annotations

__all__ = [
    "ContractError",
    "DecodeError",
    "Iso8655Error",
    "LabCalError",
    "MeasurementInputError",
    "ProtocolError",
    "TopicError",
    "UnknownEditionError",
    "UnsupportedVersionError",
]


class LabCalError(Exception):
    """Base class of every error raised by LabCal's shared package."""


class ContractError(LabCalError, ValueError):
    """A message or topic does not meet LabCal's MQTT contract."""


class TopicError(ContractError):
    """A topic string is malformed or names an unknown kind."""


class UnsupportedVersionError(ContractError):
    """An envelope carries a schema version this code does not understand."""


class DecodeError(ContractError):
    """Bytes that are not a valid LabCal envelope (bad JSON, missing or invalid fields)."""


class ProtocolError(LabCalError, ValueError):
    """A device line that a protocol codec cannot parse."""


class Iso8655Error(LabCalError, ValueError):
    """ISO 8655 calculation refused its input."""


class MeasurementInputError(Iso8655Error):
    """Invalid measurement input: negative or NaN mass, empty run, unknown unit, out-of-range
    environment."""


class UnknownEditionError(Iso8655Error):
    """No MPE table is shipped for the requested edition; never silently fall back."""
