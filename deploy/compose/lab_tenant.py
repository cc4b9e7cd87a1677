#!/usr/bin/env python3
"""Print the portal's id of the customer tenant (lab) named NAME, creating the tenant if none has
that name; used by provision.sh (mounted as /usr/local/bin/labcal-lab-tenant in the cloud image).

The portal generates tenant ids; stations publish under ``labcal/v1/<tenant id>/...`` and the
ingest checks a station's registered tenant, so the simulated station must be registered, and
configured, with this id, not a name typed by hand. Database: ``LABCAL_DATABASE_URL``.
Idempotent: the oldest customer tenant with the name is reused.
"""

from __future__ import annotations

import argparse
import os
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="labcal-lab-tenant", description=__doc__)
    parser.add_argument("name", help="the lab's (customer tenant's) name, e.g. 'Demo Lab'")
    args = parser.parse_args(argv)
    name = args.name.strip()
    url = os.environ.get("LABCAL_DATABASE_URL", "")
    if not name or not url:
        print("labcal-lab-tenant: a name and LABCAL_DATABASE_URL are needed", file=sys.stderr)
        return 2

    from labcal_cloud.portal.app import build_services
    from labcal_cloud.portal.settings import PortalSettings

    services = build_services(PortalSettings(database_url=url))
    row = services.db.one(
        "SELECT id FROM portal_tenants WHERE kind = 'customer' AND name = ?"
        " ORDER BY created_at, id LIMIT 1",
        (name,),
    )
    tenant_id = str(row[0]) if row is not None else services.accounts.create_tenant(name).id
    created = row is None
    print(tenant_id)
    print(
        f"labcal-lab-tenant: {'created' if created else 'found'} tenant {tenant_id} ({name})",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
