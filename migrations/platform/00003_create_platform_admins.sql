-- +goose Up
CREATE TABLE public.platform_admins (
    id            uuid PRIMARY KEY,
    email         text        NOT NULL UNIQUE CHECK (email = lower(email) AND email LIKE '%_@_%'),
    password_hash text        NOT NULL,
    role          text        NOT NULL DEFAULT 'owner' CHECK (role IN ('owner', 'support', 'finance')),
    disabled_at   timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_login_at timestamptz
);

CREATE TABLE public.platform_refresh_tokens (
    id          uuid PRIMARY KEY,
    admin_id    uuid        NOT NULL REFERENCES public.platform_admins (id),
    family_id   uuid        NOT NULL,
    token_hash  bytea       NOT NULL UNIQUE,
    expires_at  timestamptz NOT NULL,
    rotated_at  timestamptz,
    revoked_at  timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX platform_refresh_tokens_family_idx ON public.platform_refresh_tokens (family_id);

-- Platform audit log: platform-admin actions, and tenant-affecting operations.
CREATE TABLE public.platform_audit_log (
    id         bigserial PRIMARY KEY,
    actor      text        NOT NULL,
    tenant_id  bigint,
    action     text        NOT NULL,
    target     text        NOT NULL DEFAULT '',
    ip         text        NOT NULL DEFAULT '',
    meta       jsonb       NOT NULL DEFAULT '{}',
    at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX platform_audit_log_at_idx ON public.platform_audit_log (at DESC);

-- +goose Down
DROP TABLE public.platform_audit_log;
DROP TABLE public.platform_refresh_tokens;
DROP TABLE public.platform_admins;
