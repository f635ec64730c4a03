-- +goose Up
-- Owners' archives of all their tenant's data (export-tenant-data). The file lives in storage
-- under file_key until expires_at; the sweep then removes it and marks the row expired. The
-- rows stay after a tenant is deleted, as a record of what left the platform and when.
CREATE TABLE public.tenant_exports (
    id           uuid PRIMARY KEY,
    tenant_id    bigint      NOT NULL REFERENCES public.tenants (id),
    requested_by text        NOT NULL CHECK (length(requested_by) BETWEEN 1 AND 200),
    status       text        NOT NULL DEFAULT 'queued'
                             CHECK (status IN ('queued', 'running', 'ready', 'failed', 'expired')),
    file_key     text        NOT NULL DEFAULT '',
    size_bytes   bigint      NOT NULL DEFAULT 0 CHECK (size_bytes >= 0),
    tables       int         NOT NULL DEFAULT 0 CHECK (tables >= 0),
    error        text        NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    expires_at   timestamptz,
    CONSTRAINT tenant_exports_ready_has_file CHECK (status <> 'ready' OR (file_key <> '' AND expires_at IS NOT NULL))
);
-- One export at a time per tenant: a second request gets the one under way.
CREATE UNIQUE INDEX tenant_exports_one_open_idx ON public.tenant_exports (tenant_id) WHERE status IN ('queued', 'running');
CREATE INDEX tenant_exports_tenant_idx ON public.tenant_exports (tenant_id, created_at DESC);
CREATE INDEX tenant_exports_expiry_idx ON public.tenant_exports (expires_at) WHERE status = 'ready';

-- +goose Down
DROP TABLE public.tenant_exports;
