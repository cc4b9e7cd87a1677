-- Calibration records with their signed certificate PDF (base64) and public verification code.
CREATE TABLE portal_calibrations (
    id TEXT PRIMARY KEY,
    tenant_id TEXT REFERENCES portal_tenants(id),
    device_id TEXT NOT NULL REFERENCES portal_devices(id),
    performed_at TEXT NOT NULL,
    next_due TEXT NOT NULL,
    passed INTEGER NOT NULL,
    operator TEXT NOT NULL,
    record_json TEXT NOT NULL,
    verify_code TEXT NOT NULL UNIQUE,
    pdf_sha256 TEXT NOT NULL,
    pdf_b64 TEXT NOT NULL
);
CREATE INDEX portal_calibrations_device ON portal_calibrations(device_id, performed_at);
CREATE INDEX portal_calibrations_tenant ON portal_calibrations(tenant_id, performed_at)
