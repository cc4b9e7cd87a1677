-- Calibration records (immutable: corrections are new rows that supersede), rejected runs,
-- balances' own calibration validity, and the due state of every device with its change log.
CREATE TABLE calibration_record (
    record_id              UUID PRIMARY KEY,
    tenant                 TEXT NOT NULL,
    run_message_id         UUID UNIQUE,
    run_id                 UUID NOT NULL,
    kind                   TEXT NOT NULL,
    phase                  TEXT,
    pipette_serial         TEXT NOT NULL,
    pipette_model          TEXT NOT NULL,
    balance_serial         TEXT NOT NULL,
    balance_in_calibration BOOLEAN,
    operator               TEXT NOT NULL,
    started_at             TIMESTAMPTZ NOT NULL,
    ended_at               TIMESTAMPTZ NOT NULL,
    recorded_at            TIMESTAMPTZ NOT NULL,
    mpe_edition            TEXT NOT NULL,
    passed                 BOOLEAN NOT NULL,
    conformity_claimable   BOOLEAN NOT NULL,
    supersedes             UUID REFERENCES calibration_record (record_id),
    correction_reason      TEXT NOT NULL DEFAULT '',
    record_json            JSONB NOT NULL
);
CREATE INDEX calibration_record_device ON calibration_record (tenant, pipette_serial, ended_at);

CREATE FUNCTION calibration_record_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'calibration records are immutable; add a correction that supersedes it';
END $$;
CREATE TRIGGER calibration_record_no_change BEFORE UPDATE OR DELETE ON calibration_record
    FOR EACH ROW EXECUTE FUNCTION calibration_record_immutable();

CREATE TABLE calibration_run_rejection (
    run_message_id UUID PRIMARY KEY,
    tenant         TEXT NOT NULL,
    reason         TEXT NOT NULL,
    at             TIMESTAMPTZ NOT NULL
);

CREATE TABLE balance_calibration (
    tenant         TEXT NOT NULL,
    balance_serial TEXT NOT NULL,
    valid_until    TIMESTAMPTZ,
    PRIMARY KEY (tenant, balance_serial)
);

CREATE TABLE device_due_state (
    tenant        TEXT NOT NULL,
    device_serial TEXT NOT NULL,
    status        TEXT NOT NULL,
    basis         TEXT NOT NULL,
    due_at        TIMESTAMPTZ NOT NULL,
    reason        TEXT NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant, device_serial)
);

CREATE TABLE due_state_event (
    id            BIGSERIAL PRIMARY KEY,
    tenant        TEXT NOT NULL,
    device_serial TEXT NOT NULL,
    at            TIMESTAMPTZ NOT NULL,
    previous      TEXT,
    current       TEXT NOT NULL,
    basis         TEXT NOT NULL,
    due_at        TIMESTAMPTZ NOT NULL,
    reason        TEXT NOT NULL
);
CREATE INDEX due_state_event_device ON due_state_event (tenant, device_serial, at);
