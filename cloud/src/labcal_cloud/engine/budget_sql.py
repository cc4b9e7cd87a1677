"""The GUM budget of a record in its own tables (``calibration_uncertainty`` and
``calibration_uncertainty_total``, migration 0107), written with the record on SQLite or
PostgreSQL, so audits and reports can query it; the record's JSON holds the same budget."""

from __future__ import annotations

from uuid import UUID

from labcal_cloud.db.gateway import Database
from labcal_cloud.engine.records import CalibrationRecord

__all__ = ["save_budget"]


def save_budget(db: Database, record: CalibrationRecord) -> None:
    """Insert the budget rows of ``record`` (none for a record without a budget)."""
    rid: UUID | str = record.record_id if db.is_postgres else str(record.record_id)
    lines = [
        (
            rid,
            i,
            v.volume_ul,
            v.channel,
            line.name,
            line.standard_uncertainty_ul,
            line.degrees_of_freedom,
            line.description,
        )
        for i, v in enumerate(record.volumes)
        for line in v.budget
    ]
    totals = [
        (
            rid,
            i,
            v.volume_ul,
            v.channel,
            v.combined_uncertainty_ul,
            v.effective_dof,
            v.coverage_factor,
            v.coverage_probability,
            v.expanded_uncertainty_ul,
        )
        for i, v in enumerate(record.volumes)
        if v.budget
    ]
    if lines:
        db.executemany(
            "INSERT INTO calibration_uncertainty (record_id, series, volume_ul, channel,"
            " component, standard_uncertainty_ul, degrees_of_freedom, description)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            lines,
        )
    if totals:
        db.executemany(
            "INSERT INTO calibration_uncertainty_total (record_id, series, volume_ul, channel,"
            " combined_ul, effective_dof, coverage_factor, coverage_probability, expanded_ul)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            totals,
        )
