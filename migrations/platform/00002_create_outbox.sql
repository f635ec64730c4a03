-- +goose Up
-- Transactional outbox: written in the business transaction, relayed to asynq with the row id
-- as the task id. Ids only, never personal data.
CREATE TABLE public.outbox (
    id          bigserial PRIMARY KEY,
    tenant_id   bigint REFERENCES public.tenants (id),
    task_type   text        NOT NULL CHECK (task_type ~ '^[a-z_]+:[a-z_]+$'),
    payload     jsonb       NOT NULL DEFAULT '{}',
    queue       text        NOT NULL DEFAULT 'default' CHECK (queue IN ('critical', 'default', 'low')),
    process_at  timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    relayed_at  timestamptz,
    attempts    int         NOT NULL DEFAULT 0,
    last_error  text        NOT NULL DEFAULT ''
);
CREATE INDEX outbox_pending_idx ON public.outbox (id) WHERE relayed_at IS NULL;
CREATE INDEX outbox_relayed_idx ON public.outbox (relayed_at) WHERE relayed_at IS NOT NULL;

-- +goose Down
DROP TABLE public.outbox;
