-- Per-user reminder preferences: channels in the user's order (email, sms, push, inbox),
-- addresses for SMS and push, time zone and quiet hours (HH:MM, both or neither).
-- A user without a row gets e-mail and the portal inbox, UTC, quiet 21:00-08:00.
CREATE TABLE portal_notification_prefs (
    user_id TEXT PRIMARY KEY REFERENCES portal_users(id),
    channels TEXT NOT NULL DEFAULT 'email,inbox',
    phone TEXT NOT NULL DEFAULT '',
    push_token TEXT NOT NULL DEFAULT '',
    time_zone TEXT NOT NULL DEFAULT 'UTC',
    quiet_start TEXT,
    quiet_end TEXT
);
