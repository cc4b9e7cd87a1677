"""Batched readings as one row of arrays per message (``reading_series``) and the view
``all_readings`` over single and batched readings."""

from __future__ import annotations

from labcal_cloud.storage.migration_plan import Features
from labcal_cloud.storage.timescale import reading_series_statements


def statements(features: Features) -> list[str]:
    return reading_series_statements(features.timescaledb)
