-- Calibration records (immutable: corrections are new rows that supersede), rejected runs,
-- balances' own calibration validity, and the due state of every device with its change log.
CREATE TABLE calibration_record (
    record_id              TEXT PRIMARY KEY,
    tenant                 TEXT NOT NULL,
    run_message_id         TEXT UNIQUE,
    run_id                 TEXT NOT NULL,
    kind                   TEXT NOT NULL,
    phase                  TEXT,
    pipette_serial         TEXT NOT NULL,
    pipette_model          TEXT NOT NULL,
    balance_serial         TEXT NOT NULL,
    balance_in_calibration INTEGER,
    operator               TEXT NOT NULL,
    started_at             TEXT NOT NULL,
    ended_at               TEXT NOT NULL,
    recorded_at            TEXT NOT NULL,
    mpe_edition            TEXT NOT NULL,
    passed                 INTEGER NOT NULL,
    conformity_claimable   INTEGER NOT NULL,
    supersedes             TEXT REFERENCES calibration_record (record_id),
    correction_reason      TEXT NOT NULL DEFAULT '',
    record_json            TEXT NOT NULL
);
CREATE INDEX calibration_record_device ON calibration_record (tenant, pipette_serial, ended_at);

CREATE TRIGGER calibration_record_no_update BEFORE UPDATE ON calibration_record
BEGIN
    SELECT RAISE(ABORT, 'calibration records are immutable; add a correction that supersedes it');
END;
CREATE TRIGGER calibration_record_no_delete BEFORE DELETE ON calibration_record
BEGIN
    SELECT RAISE(ABORT, 'calibration records are immutable; add a correction that supersedes it');
END;

CREATE TABLE calibration_run_rejection (
    run_message_id TEXT PRIMARY KEY,
    tenant         TEXT NOT NULL,
    reason         TEXT NOT NULL,
    at             TEXT NOT NULL
);

CREATE TABLE balance_calibration (
    tenant         TEXT NOT NULL,
    balance_serial TEXT NOT NULL,
    valid_until    TEXT,
    PRIMARY KEY (tenant, balance_serial)
);

CREATE TABLE device_due_state (
    tenant        TEXT NOT NULL,
    device_serial TEXT NOT NULL,
    status        TEXT NOT NULL,
    basis         TEXT NOT NULL,
    due_at        TEXT NOT NULL,
    reason        TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (tenant, device_serial)
);

CREATE TABLE due_state_event (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant        TEXT NOT NULL,
    device_serial TEXT NOT NULL,
    at            TEXT NOT NULL,
    previous      TEXT,
    current       TEXT NOT NULL,
    basis         TEXT NOT NULL,
    due_at        TEXT NOT NULL,
    reason        TEXT NOT NULL
);
CREATE INDEX due_state_event_device ON due_state_event (tenant, device_serial, at);
