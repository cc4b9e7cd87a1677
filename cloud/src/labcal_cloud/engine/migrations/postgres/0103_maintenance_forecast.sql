-- The latest maintenance forecast of each pipette (the webhook carries every alert).
CREATE TABLE maintenance_forecast (
    tenant        TEXT NOT NULL,
    device_serial TEXT NOT NULL,
    computed_at   TIMESTAMPTZ NOT NULL,
    guard         DOUBLE PRECISION NOT NULL,
    alert         BOOLEAN NOT NULL,
    early_at      TIMESTAMPTZ,
    median_at     TIMESTAMPTZ,
    late_at       TIMESTAMPTZ,
    reason        TEXT NOT NULL,
    PRIMARY KEY (tenant, device_serial)
);
