-- Core ingest tables. Every message is stored once: messages.message_id and (station, seq) are
-- unique, and the per-kind tables are written only for messages that were new.

CREATE TABLE stations (
    station       text PRIMARY KEY,
    tenant        text NOT NULL,
    password_hash text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stations_tenant ON stations (tenant);

CREATE TABLE api_tokens (
    token_sha256 text PRIMARY KEY,
    tenant       text NOT NULL,
    label        text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE messages (
    message_id    uuid PRIMARY KEY,
    tenant        text NOT NULL,
    station       text NOT NULL,
    seq           bigint NOT NULL,
    kind          text NOT NULL,
    payload_type  text NOT NULL,
    device_type   text,
    device_make   text,
    device_model  text,
    device_serial text,
    device_time   timestamptz,
    edge_time     timestamptz NOT NULL,
    clock         text NOT NULL,
    received_at   timestamptz NOT NULL,
    payload_json  jsonb,
    UNIQUE (station, seq)
);

CREATE TABLE readings (
    message_id    uuid NOT NULL,
    idx           integer NOT NULL,
    tenant        text NOT NULL,
    station       text NOT NULL,
    device_serial text NOT NULL,
    time          timestamptz NOT NULL,
    value         double precision,
    unit          text NOT NULL,
    stable        boolean NOT NULL,
    status        text NOT NULL,
    run_id        uuid,
    PRIMARY KEY (message_id, idx)
);

CREATE TABLE usage_reports (
    message_id           uuid PRIMARY KEY,
    tenant               text NOT NULL,
    station              text NOT NULL,
    device_make          text NOT NULL,
    device_model         text NOT NULL,
    device_serial        text NOT NULL,
    time                 timestamptz NOT NULL,
    cycles_total         bigint NOT NULL,
    cycles_since_service bigint NOT NULL,
    trigger              text NOT NULL,
    volume_setting_ul    double precision
);

CREATE TABLE runs (
    message_id        uuid PRIMARY KEY,
    tenant            text NOT NULL,
    station           text NOT NULL,
    run_id            uuid NOT NULL,
    mode              text NOT NULL,
    phase             text,
    pipette_make      text NOT NULL,
    pipette_model     text NOT NULL,
    pipette_serial    text NOT NULL,
    balance_serial    text NOT NULL,
    nominal_volume_ul double precision NOT NULL,
    started_at        timestamptz NOT NULL,
    ended_at          timestamptz NOT NULL,
    payload_json      jsonb NOT NULL
);

CREATE TABLE device_events (
    message_id    uuid PRIMARY KEY,
    tenant        text NOT NULL,
    station       text NOT NULL,
    device_serial text NOT NULL,
    time          timestamptz NOT NULL,
    event         text NOT NULL,
    code          text,
    detail        text NOT NULL
);

CREATE TABLE quarantine (
    id          bigserial PRIMARY KEY,
    digest      text NOT NULL UNIQUE,
    received_at timestamptz NOT NULL,
    topic       text NOT NULL,
    tenant      text,
    station     text,
    reason      text NOT NULL,
    payload     bytea NOT NULL
);
CREATE INDEX quarantine_tenant_time ON quarantine (tenant, received_at);
