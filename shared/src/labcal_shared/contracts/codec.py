"""JSON encoding and strict decoding of envelopes.

``decode`` never guesses: an unknown schema version, invalid JSON, an invalid payload or a topic
that disagrees with the envelope each raise a :class:`~labcal_shared.errors.ContractError`
subclass whose message says what is wrong and where.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from labcal_shared.contracts.envelope import SCHEMA_VERSION, Envelope
from labcal_shared.contracts.topics import parse_topic
from labcal_shared.errors import ContractError, DecodeError, UnsupportedVersionError

__all__ = ["decode", "encode", "format_validation_error"]

_MAX_ERRORS_SHOWN = 5


def encode(envelope: Envelope) -> bytes:
    """Serialise an envelope to compact UTF-8 JSON."""
    return envelope.model_dump_json(exclude_none=True).encode()


def decode(data: bytes | str, *, topic: str | None = None) -> Envelope:
    """Parse and validate one message; with ``topic``, also check that they agree.

    Raises :class:`UnsupportedVersionError`, :class:`DecodeError` or
    :class:`~labcal_shared.errors.TopicError` / :class:`ContractError` (topic mismatch).
    """
    try:
        envelope = Envelope.model_validate_json(data)
    except ValidationError as exc:
        _raise_version_error(data)
        raise DecodeError(format_validation_error(exc)) from None
    if topic is not None:
        check_topic(envelope, topic)
    return envelope


def check_topic(envelope: Envelope, topic: str) -> None:
    """Raise :class:`ContractError` unless ``topic`` names the envelope's tenant, station, kind."""
    parsed = parse_topic(topic)
    for what, in_topic, in_envelope in (
        ("tenant", parsed.tenant, envelope.tenant),
        ("station", parsed.station, envelope.station),
        ("kind", parsed.kind.value, envelope.kind.value),
    ):
        if in_topic != in_envelope:
            raise ContractError(
                f"topic {topic!r} says {what} {in_topic!r} but the envelope says {in_envelope!r}"
            )


def format_validation_error(exc: ValidationError) -> str:
    """A one-line, person-readable summary of a pydantic validation error."""
    errors = exc.errors(include_url=False)
    if errors and errors[0]["type"] == "json_invalid":
        return f"not valid JSON: {errors[0]['msg']}"
    parts = []
    for err in errors[:_MAX_ERRORS_SHOWN]:
        loc = ".".join(str(p) for p in err["loc"]) or "message"
        parts.append(f"{loc}: {err['msg']}")
    more = len(errors) - _MAX_ERRORS_SHOWN
    suffix = f" (and {more} more)" if more > 0 else ""
    return "invalid message: " + "; ".join(parts) + suffix


def _raise_version_error(data: bytes | str) -> None:
    """If the message states a schema version other than ours, say so instead of field errors."""
    try:
        obj: Any = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return
    if isinstance(obj, dict) and "schema_version" in obj:
        version = obj["schema_version"]
        if version != SCHEMA_VERSION or isinstance(version, bool):
            raise UnsupportedVersionError(
                f"unsupported schema_version {version!r}: this code reads version {SCHEMA_VERSION}"
            )
