-- The latest maintenance forecast of each pipette (the webhook carries every alert).
CREATE TABLE maintenance_forecast (
    tenant        TEXT NOT NULL,
    device_serial TEXT NOT NULL,
    computed_at   TEXT NOT NULL,
    guard         REAL NOT NULL,
    alert         INTEGER NOT NULL,
    early_at      TEXT,
    median_at     TEXT,
    late_at       TEXT,
    reason        TEXT NOT NULL,
    PRIMARY KEY (tenant, device_serial)
);
