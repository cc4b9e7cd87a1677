"""Builders shared by the portal tests: an app on a real database and a small world of tenants."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient

from labcal_cloud.accounts.model import Role, Site, Tenant, User
from labcal_cloud.booking.ports import Mailer, ReminderControl
from labcal_cloud.portal.app import build_services, create_app
from labcal_cloud.portal.runtime import Runtime
from labcal_cloud.portal.services import Services
from labcal_cloud.portal.settings import PortalSettings

PASSWORD = "correct horse battery"


@dataclass
class Clock:
    at: datetime = field(default_factory=lambda: datetime(2026, 3, 2, 9, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **kwargs: float) -> None:
        self.at += timedelta(**kwargs)


@dataclass
class Lab:
    tenant: Tenant
    site: Site
    admin: User
    user: User


@dataclass
class World:
    services: Services
    clock: Clock
    provider: Tenant
    provider_admin: User
    planner: User
    a: Lab
    b: Lab


def build_world(
    database_url: str,
    *,
    reminders: ReminderControl | None = None,
    mailer: Mailer | None = None,
    **settings: object,
) -> World:
    clock = Clock()
    runtime = Runtime(now=clock, new_id=lambda: uuid.uuid4().hex)
    options: dict[str, Any] = {"fast_password_hashing": True, "base_url": "http://portal.test"}
    config = PortalSettings(database_url=database_url, **{**options, **settings})
    services = build_services(config, runtime, reminders=reminders, mailer=mailer)
    acc = services.accounts
    provider = acc.create_tenant("LabCal Service", "provider")
    tag = uuid.uuid4().hex[:8]
    padmin = acc.create_user(
        provider.id, f"padmin-{tag}@provider.test", "Pat Admin", Role.PROVIDER_ADMIN, PASSWORD
    )
    planner = acc.create_user(
        provider.id, f"planner-{tag}@provider.test", "Paul Planner", Role.SERVICE_PLANNER, PASSWORD
    )
    labs = []
    for name in ("a", "b"):
        tenant = acc.create_tenant(f"Lab {name.upper()}")
        site = acc.create_site(tenant.id, f"{name.upper()} Main building")
        admin = acc.create_user(
            tenant.id, f"admin-{name}-{tag}@lab.test", f"Admin {name}", Role.LAB_ADMIN, PASSWORD
        )
        user = acc.create_user(
            tenant.id, f"user-{name}-{tag}@lab.test", f"User {name}", Role.LAB_USER, PASSWORD
        )
        labs.append(Lab(tenant, site, admin, user))
    return World(services, clock, provider, padmin, planner, labs[0], labs[1])


def client_for(world: World) -> TestClient:
    return TestClient(create_app(world.services.settings, services=world.services))


def login(client: TestClient, user: User) -> str:
    """Log in through the API; return the session's CSRF token."""
    r = client.post("/api/v1/session", json={"email": user.email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    token: str = r.json()["csrf_token"]
    return token


def api_token(world: World, user: User) -> dict[str, str]:
    _, token = world.services.accounts.create_api_token(user, "test")
    return {"Authorization": f"Bearer {token}"}


def make_signing_pair(folder: Path, common_name: str = "LabCal Test Provider") -> tuple[Path, Path]:
    """A throwaway EC key and self-signed certificate (PEM) for signing certificates in tests."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=True,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=3650))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    key_file, cert_file = folder / "signing-key.pem", folder / "signing-cert.pem"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_file, cert_file


def sample_run(
    serial: str,
    model: str = "P100",
    *,
    ended_at: datetime | None = None,
    bias_mg: float = 0.0,
    operator: str = "Tara Technician",
) -> dict[str, object]:
    """A 100 µL pipette run, 3 volumes × 10 replicates, as the station sends it (JSON)."""
    end = ended_at or datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    spread = (-0.06, 0.04, 0.01, -0.02, 0.05, -0.03, 0.0, 0.02, -0.01, 0.03)
    volumes = [
        {
            "volume_ul": v,
            "masses_mg": [round(v * 0.99707 + bias_mg * v / 100 + d * v / 100, 4) for d in spread],
        }
        for v in (10.0, 50.0, 100.0)
    ]
    return {
        "run_id": str(uuid.uuid4()),
        "mode": "calibration",
        "pipette": {"type": "pipette", "make": "Acme", "model": model, "serial": serial},
        "nominal_volume_ul": 100.0,
        "balance": {"type": "balance", "make": "Mettler", "model": "XPR26", "serial": "B-77"},
        "balance_readability_mg": 0.001,
        "environment": [  # at the start and at the end of the run
            {"air_temp_c": 21.0, "water_temp_c": 20.5, "pressure_kpa": 101.3, "humidity_pct": 55.0}
        ]
        * 2,
        "test_volumes": volumes,
        "operator": operator,
        "started_at": (end - timedelta(minutes=40)).isoformat(),
        "ended_at": end.isoformat(),
    }


def record_calibration(
    world: World, device_id: str, serial: str, **run_kwargs: object
) -> dict[str, str]:
    client = client_for(world)
    body = {
        "device_id": device_id,
        "run": sample_run(serial, **run_kwargs),  # type: ignore[arg-type]
        "balance_traceability": "DAkkS D-K-12345 certificate 2025-117",
        "balance_valid_until": "2027-01-01T00:00:00+00:00",
        "interval_days": 365,
    }
    r = client.post("/api/v1/calibrations", json=body, headers=api_token(world, world.planner))
    assert r.status_code == 201, r.text
    out: dict[str, str] = r.json()
    return out
