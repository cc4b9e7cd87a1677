-- Core ingest tables (SQLite). Times are UTC ISO 8601 text with microseconds, so they sort;
-- UUIDs are text; booleans are 0/1. Same columns as the PostgreSQL schema.

CREATE TABLE stations (
    station       TEXT PRIMARY KEY,
    tenant        TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))
);
CREATE INDEX stations_tenant ON stations (tenant);

CREATE TABLE api_tokens (
    token_sha256 TEXT PRIMARY KEY,
    tenant       TEXT NOT NULL,
    label        TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))
);

CREATE TABLE messages (
    message_id    TEXT PRIMARY KEY,
    tenant        TEXT NOT NULL,
    station       TEXT NOT NULL,
    seq           INTEGER NOT NULL,
    kind          TEXT NOT NULL,
    payload_type  TEXT NOT NULL,
    device_type   TEXT,
    device_make   TEXT,
    device_model  TEXT,
    device_serial TEXT,
    device_time   TEXT,
    edge_time     TEXT NOT NULL,
    clock         TEXT NOT NULL,
    received_at   TEXT NOT NULL,
    payload_json  TEXT,
    UNIQUE (station, seq)
);

CREATE TABLE readings (
    message_id    TEXT NOT NULL,
    idx           INTEGER NOT NULL,
    tenant        TEXT NOT NULL,
    station       TEXT NOT NULL,
    device_serial TEXT NOT NULL,
    time          TEXT NOT NULL,
    value         REAL,
    unit          TEXT NOT NULL,
    stable        INTEGER NOT NULL,
    status        TEXT NOT NULL,
    run_id        TEXT,
    PRIMARY KEY (message_id, idx)
) WITHOUT ROWID;

CREATE TABLE usage_reports (
    message_id           TEXT PRIMARY KEY,
    tenant               TEXT NOT NULL,
    station              TEXT NOT NULL,
    device_make          TEXT NOT NULL,
    device_model         TEXT NOT NULL,
    device_serial        TEXT NOT NULL,
    time                 TEXT NOT NULL,
    cycles_total         INTEGER NOT NULL,
    cycles_since_service INTEGER NOT NULL,
    trigger              TEXT NOT NULL,
    volume_setting_ul    REAL
);

CREATE TABLE runs (
    message_id        TEXT PRIMARY KEY,
    tenant            TEXT NOT NULL,
    station           TEXT NOT NULL,
    run_id            TEXT NOT NULL,
    mode              TEXT NOT NULL,
    phase             TEXT,
    pipette_make      TEXT NOT NULL,
    pipette_model     TEXT NOT NULL,
    pipette_serial    TEXT NOT NULL,
    balance_serial    TEXT NOT NULL,
    nominal_volume_ul REAL NOT NULL,
    started_at        TEXT NOT NULL,
    ended_at          TEXT NOT NULL,
    payload_json      TEXT NOT NULL
);

CREATE TABLE device_events (
    message_id    TEXT PRIMARY KEY,
    tenant        TEXT NOT NULL,
    station       TEXT NOT NULL,
    device_serial TEXT NOT NULL,
    time          TEXT NOT NULL,
    event         TEXT NOT NULL,
    code          TEXT,
    detail        TEXT NOT NULL
);

CREATE TABLE quarantine (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    digest      TEXT NOT NULL UNIQUE,
    received_at TEXT NOT NULL,
    topic       TEXT NOT NULL,
    tenant      TEXT,
    station     TEXT,
    reason      TEXT NOT NULL,
    payload     BLOB NOT NULL
);
CREATE INDEX quarantine_tenant_time ON quarantine (tenant, received_at);
