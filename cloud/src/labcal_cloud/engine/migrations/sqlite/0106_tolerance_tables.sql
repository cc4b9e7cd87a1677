-- Tolerance tables a provider loads (versioned data: a (name, version) is never changed), which
-- table judges a tenant's (device_serial '') or one device's runs, and the table each record
-- was judged by ('' for records stored before: the built-in table of their MPE edition).
CREATE TABLE tolerance_table (
    name      TEXT NOT NULL,
    version   TEXT NOT NULL,
    kind      TEXT NOT NULL,
    source    TEXT NOT NULL,
    body_json TEXT NOT NULL,
    sha256    TEXT NOT NULL,
    loaded_at TEXT NOT NULL,
    PRIMARY KEY (name, version)
);
CREATE TABLE tolerance_assignment (
    tenant        TEXT NOT NULL,
    device_serial TEXT NOT NULL DEFAULT '',
    name          TEXT NOT NULL,
    version       TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (tenant, device_serial),
    FOREIGN KEY (name, version) REFERENCES tolerance_table (name, version)
);
ALTER TABLE calibration_record ADD COLUMN tolerance_table TEXT NOT NULL DEFAULT '';
