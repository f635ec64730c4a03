-- +goose Up
-- Every Stripe webhook event accepted (signature verified), once: the primary key is the
-- deduplication, written in the same transaction as the outbox row that processes the event.
-- tenant_id comes from the object's metadata and is NULL for events that name no known tenant.
CREATE TABLE public.stripe_events (
    event_id    text PRIMARY KEY CHECK (length(event_id) BETWEEN 1 AND 255),
    type        text        NOT NULL,
    tenant_id   bigint      REFERENCES public.tenants (id),
    object_id   text        NOT NULL DEFAULT '',
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stripe_events_received_idx ON public.stripe_events (received_at);
CREATE INDEX stripe_events_tenant_idx ON public.stripe_events (tenant_id, received_at) WHERE tenant_id IS NOT NULL;

-- +goose Down
DROP TABLE public.stripe_events;
