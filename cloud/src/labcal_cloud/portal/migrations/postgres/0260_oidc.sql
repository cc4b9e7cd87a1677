-- Single sign-on per tenant through OpenID Connect, and the pending logins' state and nonce.
CREATE TABLE portal_oidc_providers (
    tenant_id TEXT PRIMARY KEY REFERENCES portal_tenants(id),
    issuer TEXT NOT NULL,
    client_id TEXT NOT NULL,
    client_secret TEXT NOT NULL
);
CREATE TABLE portal_oidc_states (
    state TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES portal_tenants(id),
    nonce TEXT NOT NULL,
    next_url TEXT NOT NULL,
    created_at TEXT NOT NULL
)
