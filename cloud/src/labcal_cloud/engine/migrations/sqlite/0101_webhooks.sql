-- Webhook endpoints of a tenant and the deliveries of each event to each endpoint.
CREATE TABLE webhook_endpoint (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant      TEXT NOT NULL,
    url         TEXT NOT NULL,
    secret      TEXT NOT NULL,
    events      TEXT NOT NULL,            -- comma-separated event types, or '*'
    active      INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE webhook_delivery (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint_id     INTEGER NOT NULL REFERENCES webhook_endpoint (id),
    event_id        TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    body            BLOB NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    claimed_by      TEXT,
    claimed_at      TEXT,
    sent_at         TEXT,
    last_error      TEXT,
    UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_delivery_due ON webhook_delivery (status, next_attempt_at);

CREATE TABLE webhook_attempt (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id INTEGER NOT NULL REFERENCES webhook_delivery (id),
    attempt     INTEGER NOT NULL,
    worker      TEXT NOT NULL,
    at          TEXT NOT NULL,
    http_status INTEGER,
    outcome     TEXT NOT NULL CHECK (outcome IN ('sent', 'retry', 'failed')),
    detail      TEXT NOT NULL DEFAULT ''
);
