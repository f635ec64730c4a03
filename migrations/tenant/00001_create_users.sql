-- +goose Up
-- People of this tenant. One person may be student, courier and staff at once (roles are
-- casbin_rules lines). Phone and name are AEAD ciphertexts; phone_bidx is the keyed blind index
-- used for login lookups.
CREATE TABLE users (
    id            uuid PRIMARY KEY,
    phone_enc     bytea       NOT NULL,
    phone_bidx    bytea       NOT NULL UNIQUE,
    name_enc      bytea,
    password_hash text,
    status        text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    last_login_at timestamptz
);

-- Refresh tokens are stored hashed; each use rotates the token, and presenting a rotated one
-- revokes its whole family (theft detection).
CREATE TABLE refresh_tokens (
    id          uuid PRIMARY KEY,
    user_id     uuid        NOT NULL REFERENCES users (id),
    family_id   uuid        NOT NULL,
    token_hash  bytea       NOT NULL UNIQUE,
    audience    text        NOT NULL,
    expires_at  timestamptz NOT NULL,
    rotated_at  timestamptz,
    revoked_at  timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);

-- Casbin lines of this tenant only: user -> role (g) and custom roles (p). Built-in role
-- templates live in configs/rbac/policy.csv.
CREATE TABLE casbin_rules (
    id    bigserial PRIMARY KEY,
    ptype text NOT NULL CHECK (ptype IN ('p', 'g')),
    v0    text NOT NULL DEFAULT '',
    v1    text NOT NULL DEFAULT '',
    v2    text NOT NULL DEFAULT '',
    v3    text NOT NULL DEFAULT '',
    v4    text NOT NULL DEFAULT '',
    v5    text NOT NULL DEFAULT '',
    UNIQUE (ptype, v0, v1, v2, v3, v4, v5)
);

-- Who did what: logins, role changes, reads of personal data. Never holds personal data itself.
CREATE TABLE audit_log (
    id         bigserial PRIMARY KEY,
    actor      text        NOT NULL,
    action     text        NOT NULL,
    target     text        NOT NULL DEFAULT '',
    ip         text        NOT NULL DEFAULT '',
    meta       jsonb       NOT NULL DEFAULT '{}',
    at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_at_idx ON audit_log (at DESC);
CREATE INDEX audit_log_target_idx ON audit_log (target);

-- Tenant settings from the blueprint and the admin: branding, service hours, commission split,
-- dispatch mode, notification templates... one JSON document per key.
CREATE TABLE settings (
    key        text PRIMARY KEY CHECK (key ~ '^[a-z][a-z0-9_.]*$'),
    value      jsonb       NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE settings;
DROP TABLE audit_log;
DROP TABLE casbin_rules;
DROP TABLE refresh_tokens;
DROP TABLE users;
