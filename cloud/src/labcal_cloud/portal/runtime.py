"""The ports through which services get time and randomness (so tests can pin both)."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

__all__ = ["Runtime", "system_runtime"]


@dataclass(frozen=True)
class Runtime:
    now: Callable[[], datetime]
    new_id: Callable[[], str]
    new_secret: Callable[[], str] = field(default=lambda: secrets.token_urlsafe(32))


def system_runtime() -> Runtime:
    return Runtime(now=lambda: datetime.now(UTC), new_id=lambda: uuid.uuid4().hex)
