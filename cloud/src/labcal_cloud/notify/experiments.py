"""A/B variants: deterministic assignment by hash, and conversion rates per variant."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from labcal_cloud.engine.errors import PolicyError

__all__ = ["Variant", "VariantStats", "assign_variant", "conversion_by_variant"]


@dataclass(frozen=True, slots=True)
class Variant:
    name: str
    subject: str  # a str.format template: {model}, {serial}, {due_date}, {days}
    offset_shift_days: float = 0.0  # timing variant: added to every step's offset
    weight: int = 1


def assign_variant(experiment: str, recipient: str, variants: Sequence[Variant]) -> Variant:
    """The same recipient always gets the same variant of an experiment (SHA-256 bucket)."""
    if not variants or any(v.weight < 1 for v in variants):
        raise PolicyError("an experiment needs variants with weights ≥ 1")
    digest = hashlib.sha256(f"{experiment}\x00{recipient}".encode()).digest()
    bucket = int.from_bytes(digest[:8], "big") % sum(v.weight for v in variants)
    for v in variants:
        if bucket < v.weight:
            return v
        bucket -= v.weight
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass(frozen=True, slots=True)
class VariantStats:
    variant: str
    sent: int
    converted: int

    @property
    def rate(self) -> float:
        return self.converted / self.sent if self.sent else 0.0


def conversion_by_variant(
    sent: Iterable[tuple[str, str]], converted: Iterable[tuple[str, str]]
) -> list[VariantStats]:
    """``sent`` and ``converted`` are (variant, subject key) pairs; each subject counts once."""
    sent_by: dict[str, set[str]] = {}
    for variant, key in sent:
        sent_by.setdefault(variant, set()).add(key)
    conv_by: dict[str, set[str]] = {}
    for variant, key in converted:
        conv_by.setdefault(variant, set()).add(key)
    return [
        VariantStats(v, len(keys), len(keys & conv_by.get(v, set())))
        for v, keys in sorted(sent_by.items())
    ]
