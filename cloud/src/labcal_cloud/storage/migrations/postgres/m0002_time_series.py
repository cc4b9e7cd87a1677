"""Time-series layout: TimescaleDB hypertables when available, plain time indexes otherwise."""

from __future__ import annotations

from labcal_cloud.storage.migration_plan import Features
from labcal_cloud.storage.timescale import plain_statements, timescale_statements


def statements(features: Features) -> list[str]:
    return timescale_statements() if features.timescaledb else plain_statements()
