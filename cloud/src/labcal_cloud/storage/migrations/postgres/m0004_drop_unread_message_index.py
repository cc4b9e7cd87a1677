"""Drop ``messages_tenant_received`` (tenant, received_at): no query reads it, and every stored
message paid for it (one of the six index entries of a single reading; about 1.6 µs of the
database's 15 µs a message on the bench machine)."""

from __future__ import annotations

from labcal_cloud.storage.migration_plan import Features


def statements(features: Features) -> list[str]:
    del features  # the same with and without TimescaleDB: ``messages`` is a plain table
    return ["DROP INDEX IF EXISTS messages_tenant_received"]
