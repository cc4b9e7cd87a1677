"""Who issues a certificate and for whom, as stored settings (ISO/IEC 17025 §7.8.2.1, §7.8.4.3).

The issuing laboratory (name, address, accreditation id, authorised signatory) is kept per
issuing tenant: the provider's laboratory, or a customer's own lab when it calibrates in house
(a customer tenant with a laboratory profile issues its own certificates). Per customer: its
address and whether it asked for a next-due date on its certificates (off unless it asked).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from labcal_cloud.accounts.errors import InvalidInputError, NotFoundError
from labcal_cloud.db.gateway import Database
from labcal_cloud.portal.runtime import Runtime

__all__ = ["CertificateProfiles", "CustomerProfile", "Laboratory"]

_MAX = {"name": 200, "address": 500, "accreditation_id": 100, "signatory": 200}


@dataclass(frozen=True)
class Laboratory:
    name: str
    address: str = ""
    accreditation_id: str = ""
    signatory_name: str = ""
    signatory_role: str = ""
    country_code: str = ""  # ISO 3166-1 alpha-2 of the lab (the DCC's coreData needs it)


@dataclass(frozen=True)
class CustomerProfile:
    address: str = ""
    next_due_on_certificate: bool = False


def _clean(value: str, field: str, limit: int, *, required: bool = False) -> str:
    """One line: the lines of a pasted address are joined with commas."""
    text = ", ".join(line.strip() for line in value.splitlines() if line.strip())
    if required and not text:
        raise InvalidInputError(f"{field} must not be empty")
    if len(text) > limit:
        raise InvalidInputError(f"{field} is longer than {limit} characters")
    return text


class CertificateProfiles:
    def __init__(self, db: Database, runtime: Runtime) -> None:
        self._db, self._rt = db, runtime

    # -- the issuing laboratory ------------------------------------------------------------
    def set_laboratory(self, tenant_id: str, lab: Laboratory) -> Laboratory:
        if self._db.one("SELECT 1 FROM portal_tenants WHERE id = ?", (tenant_id,)) is None:
            raise NotFoundError("tenant not found")
        clean = Laboratory(
            _clean(lab.name, "name", _MAX["name"], required=True),
            _clean(lab.address, "address", _MAX["address"]),
            _clean(lab.accreditation_id, "accreditation_id", _MAX["accreditation_id"]),
            _clean(lab.signatory_name, "signatory_name", _MAX["signatory"]),
            _clean(lab.signatory_role, "signatory_role", _MAX["signatory"]),
        )
        if bool(clean.signatory_name) != bool(clean.signatory_role):
            raise InvalidInputError("give the signatory's name and role together")
        country = lab.country_code.strip().upper()
        if country and not re.fullmatch(r"[A-Z]{2}", country):
            raise InvalidInputError("country_code must be two letters (ISO 3166-1), e.g. DE")
        clean = replace(clean, country_code=country)
        self._db.execute(
            "INSERT INTO portal_certificate_labs (tenant_id, name, address, accreditation_id,"
            " signatory_name, signatory_role, country_code, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (tenant_id) DO UPDATE SET name = excluded.name,"
            " address = excluded.address, accreditation_id = excluded.accreditation_id,"
            " signatory_name = excluded.signatory_name,"
            " signatory_role = excluded.signatory_role, country_code = excluded.country_code,"
            " updated_at = excluded.updated_at",
            (
                tenant_id,
                clean.name,
                clean.address,
                clean.accreditation_id,
                clean.signatory_name,
                clean.signatory_role,
                clean.country_code,
                self._rt.now().isoformat(),
            ),
        )
        return clean

    def laboratory(self, tenant_id: str) -> Laboratory | None:
        row = self._db.one(
            "SELECT name, address, accreditation_id, signatory_name, signatory_role, country_code"
            " FROM portal_certificate_labs WHERE tenant_id = ?",
            (tenant_id,),
        )
        return None if row is None else Laboratory(*row)

    def issuer_for(self, customer_tenant_id: str, default_name: str) -> Laboratory:
        """The customer's own lab when it has a profile, else the provider's, else a lab with
        only the configured provider name (the certificate then says what is not stated)."""
        own = self.laboratory(customer_tenant_id)
        if own is not None:
            return own
        row = self._db.one(
            "SELECT l.name, l.address, l.accreditation_id, l.signatory_name, l.signatory_role,"
            " l.country_code"
            " FROM portal_certificate_labs l JOIN portal_tenants t ON t.id = l.tenant_id"
            " WHERE t.kind = 'provider' ORDER BY t.created_at, t.id LIMIT 1"
        )
        return Laboratory(default_name) if row is None else Laboratory(*row)

    # -- the customer ------------------------------------------------------------------------
    def set_customer(self, tenant_id: str, profile: CustomerProfile) -> CustomerProfile:
        if self._db.one("SELECT 1 FROM portal_tenants WHERE id = ?", (tenant_id,)) is None:
            raise NotFoundError("tenant not found")
        clean = CustomerProfile(
            _clean(profile.address, "address", _MAX["address"]), profile.next_due_on_certificate
        )
        self._db.execute(
            "INSERT INTO portal_certificate_customers (tenant_id, address,"
            " next_due_on_certificate, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (tenant_id) DO UPDATE SET address = excluded.address,"
            " next_due_on_certificate = excluded.next_due_on_certificate,"
            " updated_at = excluded.updated_at",
            (
                tenant_id,
                clean.address,
                int(clean.next_due_on_certificate),
                self._rt.now().isoformat(),
            ),
        )
        return clean

    def customer(self, tenant_id: str) -> CustomerProfile:
        row = self._db.one(
            "SELECT address, next_due_on_certificate FROM portal_certificate_customers"
            " WHERE tenant_id = ?",
            (tenant_id,),
        )
        return CustomerProfile() if row is None else CustomerProfile(row[0], bool(row[1]))
