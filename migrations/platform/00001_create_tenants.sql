-- +goose Up
-- The tenant registry. schema_name comes from the registry id, never from user input.
CREATE TABLE public.tenants (
    id            bigserial PRIMARY KEY,
    slug          text        NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,28}[a-z0-9]$'),
    name          text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    schema_name   text        NOT NULL UNIQUE CHECK (schema_name ~ '^tenant_[a-z0-9_]{1,40}$'),
    status        text        NOT NULL DEFAULT 'provisioning'
                              CHECK (status IN ('provisioning', 'active', 'suspended', 'deleted')),
    status_reason text        NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tenants_status_idx ON public.tenants (status);

-- Custom domains that resolve to a tenant once verified.
CREATE TABLE public.tenant_domains (
    domain      text PRIMARY KEY CHECK (domain = lower(domain)),
    tenant_id   bigint      NOT NULL REFERENCES public.tenants (id),
    txt_token   text        NOT NULL,
    verified_at timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tenant_domains_tenant_idx ON public.tenant_domains (tenant_id);

-- Each tenant's encryption keysets (Tink), wrapped by the master key. Kept in the control
-- plane so that a dump of a tenant schema never carries its own key.
CREATE TABLE public.tenant_keys (
    tenant_id   bigint PRIMARY KEY REFERENCES public.tenants (id),
    aead_keyset bytea       NOT NULL,
    mac_keyset  bytea       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Provisioning progress: what the job still has to do, visible and retryable. The owner's
-- phone waits here encrypted with the tenant's keyset and is cleared once the owner exists.
CREATE TABLE public.tenant_provisioning (
    tenant_id       bigint PRIMARY KEY REFERENCES public.tenants (id),
    blueprint       text        NOT NULL DEFAULT 'default',
    owner_phone_enc bytea,
    owner_name_enc  bytea,
    step            text        NOT NULL DEFAULT 'registered',
    attempts        int         NOT NULL DEFAULT 0,
    last_error      text        NOT NULL DEFAULT '',
    started_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz
);

-- +goose Down
DROP TABLE public.tenant_provisioning;
DROP TABLE public.tenant_keys;
DROP TABLE public.tenant_domains;
DROP TABLE public.tenants;
