-- Device registry: devices sold with a claim code, claimed or added by a tenant.
CREATE TABLE portal_devices (
    id TEXT PRIMARY KEY,
    tenant_id TEXT REFERENCES portal_tenants(id),
    site_id TEXT REFERENCES portal_sites(id),
    make TEXT NOT NULL,
    model TEXT NOT NULL,
    serial TEXT NOT NULL,
    nominal_volume_ul REAL NOT NULL DEFAULT 0,
    claim_code TEXT UNIQUE,
    order_ref TEXT NOT NULL DEFAULT '',
    registered_at TEXT,
    interval_days INTEGER NOT NULL DEFAULT 365,
    last_calibrated_at TEXT,
    usage_cycles INTEGER NOT NULL DEFAULT 0,
    cycles_limit INTEGER NOT NULL DEFAULT 0,
    UNIQUE (make, model, serial)
);
CREATE INDEX portal_devices_tenant ON portal_devices(tenant_id, site_id);
CREATE TABLE portal_usage_weeks (
    device_id TEXT NOT NULL REFERENCES portal_devices(id),
    week_start TEXT NOT NULL,
    cycles INTEGER NOT NULL,
    PRIMARY KEY (device_id, week_start)
)
