-- What a certificate states about who issued it and for whom (ISO/IEC 17025 §7.8.2.1):
-- the issuing laboratory's name, address, accreditation and authorised signatory (per issuing
-- tenant: the provider, or a customer lab that calibrates in house), and per customer its
-- address and whether it asked for a next-due date on its certificates (§7.8.4.3, default no).
CREATE TABLE portal_certificate_labs (
    tenant_id TEXT PRIMARY KEY REFERENCES portal_tenants(id),
    name TEXT NOT NULL,
    address TEXT NOT NULL DEFAULT '',
    country_code TEXT NOT NULL DEFAULT '',
    accreditation_id TEXT NOT NULL DEFAULT '',
    signatory_name TEXT NOT NULL DEFAULT '',
    signatory_role TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL
);
CREATE TABLE portal_certificate_customers (
    tenant_id TEXT PRIMARY KEY REFERENCES portal_tenants(id),
    address TEXT NOT NULL DEFAULT '',
    next_due_on_certificate INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL
)
