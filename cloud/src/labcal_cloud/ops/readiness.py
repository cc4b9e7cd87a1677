"""What "ready" means for a cloud process (pure): storage answered and every known migration
is applied."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Readiness", "judge_readiness"]


@dataclass(frozen=True, slots=True)
class Readiness:
    ready: bool
    storage: str  # "ok" or the error
    pending_migrations: tuple[int, ...]

    def as_json(self) -> dict[str, object]:
        return {
            "ready": self.ready,
            "storage": self.storage,
            "pending_migrations": list(self.pending_migrations),
        }


def judge_readiness(
    expected: Iterable[int], applied: Iterable[int] | None, storage_error: str | None
) -> Readiness:
    """``applied`` is None when storage could not be read (then ``storage_error`` says why)."""
    if applied is None or storage_error is not None:
        return Readiness(False, storage_error or "storage unreachable", tuple(sorted(expected)))
    missing = tuple(sorted(set(expected) - set(applied)))
    return Readiness(not missing, "ok", missing)
