-- +goose Up
-- Support sessions: a platform admin acting as a tenant user (impersonate-tenant). The row id
-- is the jti of the session's access token; every request made with that token checks the
-- row, so ending it (ended_at) or disabling the admin stops the token at once.
CREATE TABLE public.impersonations (
    id         uuid PRIMARY KEY,
    admin_id   uuid        NOT NULL REFERENCES public.platform_admins (id),
    tenant_id  bigint      NOT NULL REFERENCES public.tenants (id),
    user_id    uuid        NOT NULL,
    reason     text        NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    ended_at   timestamptz,
    CHECK (expires_at > created_at)
);
CREATE INDEX impersonations_tenant_idx ON public.impersonations (tenant_id, created_at);

-- +goose Down
DROP TABLE public.impersonations;
