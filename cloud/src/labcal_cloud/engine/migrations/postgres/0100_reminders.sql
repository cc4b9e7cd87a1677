-- Reminder steps, claimed by scheduler replicas with FOR UPDATE SKIP LOCKED.
CREATE TABLE reminder_step (
    id              BIGSERIAL PRIMARY KEY,
    tenant          TEXT NOT NULL,
    sequence        TEXT NOT NULL,            -- due | onboarding
    subject_key     TEXT NOT NULL,            -- the due item (device) or the account
    step            TEXT NOT NULL,            -- initial, follow_up, ..., welcome, day_3 ...
    recipient       TEXT NOT NULL,            -- user id
    channel         TEXT NOT NULL,            -- email | sms | push | inbox
    address         TEXT NOT NULL,
    variant         TEXT NOT NULL DEFAULT '',
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    send_at         TIMESTAMPTZ NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'cancelled')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    claimed_by      TEXT,
    claimed_at      TIMESTAMPTZ,
    sent_at         TIMESTAMPTZ,
    last_error      TEXT,
    cancel_reason   TEXT,
    UNIQUE (tenant, sequence, subject_key, step, recipient, channel)
);
CREATE INDEX reminder_step_due ON reminder_step (next_attempt_at) WHERE status = 'pending';
CREATE INDEX reminder_step_subject ON reminder_step (tenant, subject_key);

-- Every delivery attempt and its outcome.
CREATE TABLE reminder_delivery (
    id          BIGSERIAL PRIMARY KEY,
    step_id     BIGINT NOT NULL REFERENCES reminder_step (id),
    attempt     INTEGER NOT NULL,
    worker      TEXT NOT NULL,
    at          TIMESTAMPTZ NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('sent', 'retry', 'failed')),
    detail      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX reminder_delivery_step ON reminder_delivery (step_id);

-- Bookings that stopped a sequence (conversion tracking for A/B variants).
CREATE TABLE reminder_conversion (
    tenant      TEXT NOT NULL,
    subject_key TEXT NOT NULL,
    step_id     BIGINT REFERENCES reminder_step (id),
    variant     TEXT NOT NULL DEFAULT '',
    booked_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant, subject_key, booked_at)
);

-- The portal inbox channel.
CREATE TABLE inbox_message (
    id          BIGSERIAL PRIMARY KEY,
    tenant      TEXT NOT NULL,
    recipient   TEXT NOT NULL,
    step_id     BIGINT UNIQUE REFERENCES reminder_step (id),
    subject     TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    read_at     TIMESTAMPTZ
);
