-- Portal accounts: tenants, sites, users, sessions, API tokens (portable SQLite/PostgreSQL SQL).
CREATE TABLE portal_tenants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('customer', 'provider')),
    created_at TEXT NOT NULL
);
CREATE TABLE portal_sites (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES portal_tenants(id),
    name TEXT NOT NULL,
    address TEXT NOT NULL DEFAULT ''
);
CREATE INDEX portal_sites_tenant ON portal_sites(tenant_id);
CREATE TABLE portal_users (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES portal_tenants(id),
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    marketing_consent INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    deleted_at TEXT
);
CREATE INDEX portal_users_tenant ON portal_users(tenant_id);
CREATE TABLE portal_sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES portal_users(id),
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE TABLE portal_api_tokens (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES portal_tenants(id),
    user_id TEXT NOT NULL REFERENCES portal_users(id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
)
