-- Webhook endpoints of a tenant and the deliveries of each event to each endpoint.
CREATE TABLE webhook_endpoint (
    id          BIGSERIAL PRIMARY KEY,
    tenant      TEXT NOT NULL,
    url         TEXT NOT NULL,
    secret      TEXT NOT NULL,
    events      TEXT NOT NULL,            -- comma-separated event types, or '*'
    active      BOOLEAN NOT NULL DEFAULT TRUE
);

CREATE TABLE webhook_delivery (
    id              BIGSERIAL PRIMARY KEY,
    endpoint_id     BIGINT NOT NULL REFERENCES webhook_endpoint (id),
    event_id        TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    body            BYTEA NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    claimed_by      TEXT,
    claimed_at      TIMESTAMPTZ,
    sent_at         TIMESTAMPTZ,
    last_error      TEXT,
    UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_delivery_due ON webhook_delivery (next_attempt_at) WHERE status = 'pending';

CREATE TABLE webhook_attempt (
    id          BIGSERIAL PRIMARY KEY,
    delivery_id BIGINT NOT NULL REFERENCES webhook_delivery (id),
    attempt     INTEGER NOT NULL,
    worker      TEXT NOT NULL,
    at          TIMESTAMPTZ NOT NULL,
    http_status INTEGER,
    outcome     TEXT NOT NULL CHECK (outcome IN ('sent', 'retry', 'failed')),
    detail      TEXT NOT NULL DEFAULT ''
);
