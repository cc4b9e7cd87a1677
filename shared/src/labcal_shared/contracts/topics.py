"""MQTT topic names: ``labcal/v1/{tenant}/{station}/{kind}``.

A station publishes only under its own prefix (the broker's ACL enforces it; ingest re-checks it
with :func:`parse_topic`). The cloud answers a station on ``.../cmd``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from labcal_shared.errors import TopicError

__all__ = [
    "TOPIC_ROOT",
    "TOPIC_VERSION",
    "Kind",
    "Topic",
    "build_topic",
    "parse_topic",
    "station_filter",
    "validate_identifier",
]

TOPIC_ROOT = "labcal"
TOPIC_VERSION = "v1"

_IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


class Kind(StrEnum):
    """What a message on a topic is about."""

    USAGE = "usage"
    READING = "reading"
    RUN = "run"
    EVENT = "event"
    STATUS = "status"
    CMD = "cmd"


def validate_identifier(value: str, what: str) -> str:
    """Return ``value`` if it is a valid tenant/station identifier, else raise :class:`TopicError`.

    Identifiers are 1–64 characters of letters, digits, ``_``, ``.`` and ``-``, starting with a
    letter or digit, so they can never contain MQTT wildcards (``+``, ``#``) or separators (``/``).
    """
    if not isinstance(value, str) or not _IDENTIFIER.fullmatch(value):
        raise TopicError(
            f"invalid {what} {value!r}: use 1-64 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit"
        )
    return value


@dataclass(frozen=True, slots=True)
class Topic:
    """A parsed LabCal topic."""

    tenant: str
    station: str
    kind: Kind

    def __str__(self) -> str:
        return f"{TOPIC_ROOT}/{TOPIC_VERSION}/{self.tenant}/{self.station}/{self.kind.value}"


def build_topic(tenant: str, station: str, kind: Kind | str) -> str:
    """Build ``labcal/v1/{tenant}/{station}/{kind}``, validating every part."""
    validate_identifier(tenant, "tenant")
    validate_identifier(station, "station")
    try:
        k = Kind(kind)
    except ValueError:
        raise TopicError(f"unknown kind {kind!r}: expected one of {_kinds()}") from None
    return str(Topic(tenant, station, k))


def parse_topic(topic: str) -> Topic:
    """Parse a topic string; raise :class:`TopicError` saying what is wrong."""
    parts = topic.split("/")
    if len(parts) != 5:
        raise TopicError(
            f"topic {topic!r} has {len(parts)} levels; expected "
            f"'{TOPIC_ROOT}/{TOPIC_VERSION}/{{tenant}}/{{station}}/{{kind}}'"
        )
    root, version, tenant, station, kind = parts
    if root != TOPIC_ROOT:
        raise TopicError(f"topic {topic!r} does not start with {TOPIC_ROOT!r}")
    if version != TOPIC_VERSION:
        raise TopicError(f"topic {topic!r} has unsupported version {version!r}; expected 'v1'")
    validate_identifier(tenant, "tenant")
    validate_identifier(station, "station")
    try:
        k = Kind(kind)
    except ValueError:
        raise TopicError(
            f"topic {topic!r} has unknown kind {kind!r}; expected one of {_kinds()}"
        ) from None
    return Topic(tenant, station, k)


def station_filter(tenant: str = "+", station: str = "+", kind: str = "+") -> str:
    """A subscription filter; ``+`` is the single-level wildcard (e.g. all stations of a tenant)."""
    for value, what in ((tenant, "tenant"), (station, "station")):
        if value != "+":
            validate_identifier(value, what)
    if kind != "+" and kind not in {k.value for k in Kind}:
        raise TopicError(f"unknown kind {kind!r}: expected one of {_kinds()}")
    return f"{TOPIC_ROOT}/{TOPIC_VERSION}/{tenant}/{station}/{kind}"


def _kinds() -> str:
    return ", ".join(k.value for k in Kind)
