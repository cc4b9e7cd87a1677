"""Deterministic demo data (a provider and one customer lab with many devices), for screenshots,
benchmarks and trying the portal: ``labcal-cloud portal-demo --devices 10000``."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from labcal_cloud.accounts.model import Role
from labcal_cloud.certificates.profiles import CustomerProfile, Laboratory
from labcal_cloud.portal.services import Services
from labcal_cloud.registry.store import OrderItem, due_date_of

__all__ = ["DemoLogins", "seed_demo"]

MODELS = (
    ("Acme", "P10", 10.0),
    ("Acme", "P100", 100.0),
    ("Acme", "P1000", 1000.0),
    ("Vitro", "V200", 200.0),
    ("Vitro", "V20-8", 20.0),
)
SITES = ("Basel Research Campus", "Freiburg QC Lab", "Mulhouse Production")


@dataclass(frozen=True)
class DemoLogins:
    provider_admin: str
    planner: str
    lab_admin: str
    password: str
    tenant_id: str
    site_ids: tuple[str, ...]


def seed_demo(s: Services, devices: int, password: str, seed: int = 7) -> DemoLogins:
    """Create the demo world; ``password`` is every demo user's password."""
    rnd = random.Random(seed)
    today = s.runtime.now().date()
    acc = s.accounts
    provider = acc.create_tenant("LabCal Service", "provider")
    padmin = acc.create_user(
        provider.id, "admin@labcal.example", "Pia Provider", Role.PROVIDER_ADMIN, password
    )
    planner = acc.create_user(
        provider.id, "planner@labcal.example", "Sam Planner", Role.SERVICE_PLANNER, password
    )
    for name, days in (
        ("Tom Keller", [0, 1, 2, 3, 4]),
        ("Ana Roth", [0, 2, 4]),
        ("Luc Martin", [1, 3]),
    ):
        s.bookings.add_technician(name, days, 3)
    s.certificates.profiles.set_laboratory(  # what its certificates state (ISO/IEC 17025 §7.8)
        provider.id,
        Laboratory(
            "LabCal Service calibration laboratory",
            "Musterstrasse 1, 38116 Braunschweig, Germany",
            "D-K-00000-01-00 (demo)",
            "Pia Provider",
            "Head of calibration laboratory",
            "DE",
        ),
    )
    lab = acc.create_tenant("Rhein Biolabs")
    s.certificates.profiles.set_customer(
        lab.id, CustomerProfile("Rheinallee 10, 55116 Mainz, Germany", next_due_on_certificate=True)
    )
    admin = acc.create_user(lab.id, "qa@rheinbiolabs.example", "Quinn QA", Role.LAB_ADMIN, password)
    sites = [acc.create_site(lab.id, name) for name in SITES]
    rows = []
    for i in range(devices):
        make, model, volume = MODELS[i % len(MODELS)]
        site = sites[i % len(sites)]
        age = rnd.randint(-30, 420)  # days since the last calibration (< 0: never calibrated)
        calibrated = (
            datetime.combine(today - timedelta(days=age), datetime.min.time(), UTC)
            if age >= 0
            else None
        )
        rows.append(
            (
                f"{i:08x}{rnd.getrandbits(64):016x}",
                lab.id,
                site.id,
                make,
                model,
                f"{model}-{100000 + i}",
                volume,
                today.isoformat(),
                calibrated.isoformat() if calibrated else None,
                rnd.randint(0, 60_000),
                100_000 if i % 3 == 0 else 0,
                due_date_of(calibrated, 365) if calibrated else None,
            )
        )
    s.db.executemany(
        "INSERT INTO portal_devices (id, tenant_id, site_id, make, model, serial,"
        " nominal_volume_ul, registered_at, last_calibrated_at, usage_cycles, cycles_limit,"
        " due_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    sold = s.registry.create_order(
        "DEMO-2026-001",
        [OrderItem("Acme", "P200", f"P200-{700000 + i}", 200.0) for i in range(40)],
    )
    for i, device in enumerate(sold[:26]):
        assert device.claim_code is not None
        s.registry.claim(lab.id, device.claim_code, sites[i % len(sites)].id)
    weeks = [today - timedelta(days=today.weekday() + 7 * k) for k in range(12, 0, -1)]
    for row in rows[:20]:
        for week in weeks:
            s.registry.update_usage(lab.id, row[0], rnd.randint(200, 1500), week)
    for score in (10, 9, 9, 8, 7, 10, 6, 9, 3, 10):
        s.reports.answer_nps(admin, score)
    return DemoLogins(
        padmin.email, planner.email, admin.email, password, lab.id, tuple(x.id for x in sites)
    )
