"""Provider KPIs computed purely from counts and dates the KPI query gathers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

__all__ = ["KpiInputs", "Kpis", "compute_kpis", "net_promoter_score"]


@dataclass(frozen=True)
class KpiInputs:
    sold: int  # devices shipped with a claim code
    sold_registered: int  # of those, claimed by a customer
    registered: int  # all devices registered to customers
    active: int  # registered devices with usage or a calibration on record
    reminding: int  # due or overdue, not booked: their reminder sequence runs
    booked_due: int  # due or overdue and in a confirmed booking
    recalibrations: Sequence[tuple[date, date]]  # (performed, the previous record's next due)
    nps_scores: Sequence[int]


@dataclass(frozen=True)
class Kpis:
    registration_rate: float | None
    activation_rate: float | None
    devices_with_active_reminders: int
    reminder_conversion: float | None
    on_time_rate: float | None
    nps: float | None
    nps_answers: int


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def net_promoter_score(scores: Sequence[int]) -> float | None:
    """% promoters (9-10) minus % detractors (0-6); None without answers."""
    if not scores:
        return None
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    return 100.0 * (promoters - detractors) / len(scores)


def compute_kpis(i: KpiInputs) -> Kpis:
    on_time = sum(1 for performed, due in i.recalibrations if performed <= due)
    return Kpis(
        registration_rate=_ratio(i.sold_registered, i.sold),
        activation_rate=_ratio(i.active, i.registered),
        devices_with_active_reminders=i.reminding,
        reminder_conversion=_ratio(i.booked_due, i.booked_due + i.reminding),
        on_time_rate=_ratio(on_time, len(i.recalibrations)),
        nps=net_promoter_score(i.nps_scores),
        nps_answers=len(i.nps_scores),
    )
