"""A lab tenant in the portal's table, as the portal creates them (stations must belong to one)."""

from __future__ import annotations

from labcal_cloud.db.gateway import connect


def add_lab_tenant(database_url: str, tenant_id: str, kind: str = "customer") -> None:
    db = connect(database_url, pool_size=1)
    try:
        db.execute(
            "INSERT INTO portal_tenants (id, name, kind, created_at)"
            " VALUES (?, ?, ?, '2026-12-07T00:00:00+00:00')",
            (tenant_id, f"Lab {tenant_id}", kind),
        )
    finally:
        db.close()
