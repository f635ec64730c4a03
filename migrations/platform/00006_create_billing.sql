-- +goose Up
-- Who suspended a suspended tenant (see tenancy.Hold): billing lifts only its own hold. A
-- tenant whose deletion was requested is held for deletion until delete_after, then its schema
-- is dropped and the row stays as a tombstone (status deleted).
ALTER TABLE public.tenants
    ADD COLUMN hold text NOT NULL DEFAULT '' CHECK (hold IN ('', 'billing', 'platform', 'deletion')),
    ADD COLUMN delete_after timestamptz;
UPDATE public.tenants SET hold = 'platform' WHERE status = 'suspended';
ALTER TABLE public.tenants ADD CONSTRAINT tenants_hold_matches_status CHECK ((status = 'suspended') = (hold <> ''));
CREATE INDEX tenants_delete_after_idx ON public.tenants (delete_after) WHERE delete_after IS NOT NULL;

-- A tenant's subscription as the platform knows it, mirrored from Stripe's webhooks. status
-- 'none' is a plan without a Stripe price (free); 'incomplete' waits for its Checkout session.
-- last_event_at is the creation time of the newest Stripe event applied: Stripe does not
-- deliver in order, so an older event never overwrites a newer state.
CREATE TABLE public.subscriptions (
    tenant_id              bigint PRIMARY KEY REFERENCES public.tenants (id),
    plan_id                text        NOT NULL REFERENCES public.plans (id),
    billing_interval       text        NOT NULL DEFAULT 'month' CHECK (billing_interval IN ('month', 'year')),
    status                 text        NOT NULL CHECK (status IN ('none', 'incomplete', 'trialing', 'active',
                                                               'past_due', 'unpaid', 'canceled', 'paused')),
    stripe_customer_id     text UNIQUE,
    stripe_subscription_id text UNIQUE,
    checkout_session_id    text UNIQUE,
    checkout_url           text        NOT NULL DEFAULT '',
    licensed_item_id       text,
    metered_item_id        text,
    trial_end              timestamptz,
    current_period_start   timestamptz,
    current_period_end     timestamptz,
    cancel_at_period_end   boolean     NOT NULL DEFAULT false,
    past_due_since         timestamptz,
    grace_until            timestamptz,
    last_event_at          timestamptz,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX subscriptions_grace_idx ON public.subscriptions (grace_until) WHERE grace_until IS NOT NULL;

-- Signups on the base host. The id is the unguessable handle of get-signup-status; the school
-- is the campus the team serves. No phone or IP here: abuse limits live in Redis.
CREATE TABLE public.signups (
    id         uuid PRIMARY KEY,
    tenant_id  bigint      NOT NULL UNIQUE REFERENCES public.tenants (id),
    school     text        NOT NULL CHECK (length(school) BETWEEN 1 AND 100),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX signups_created_idx ON public.signups (created_at);

-- Billing webhook deliveries accepted, once (the primary key is the deduplication). Separate
-- from stripe_events: the payments endpoint records the same account's events too, and must
-- not make the billing endpoint think it has seen them.
CREATE TABLE public.billing_events (
    event_id    text PRIMARY KEY CHECK (length(event_id) BETWEEN 1 AND 255),
    type        text        NOT NULL,
    tenant_id   bigint      REFERENCES public.tenants (id),
    object_id   text        NOT NULL DEFAULT '',
    created     timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX billing_events_tenant_idx ON public.billing_events (tenant_id, received_at) WHERE tenant_id IS NOT NULL;

-- Stripe invoices of each tenant's subscription, mirrored from invoice.* events for the
-- owner's and the platform's lists. Amounts in minor units.
CREATE TABLE public.invoices (
    id                 text PRIMARY KEY,
    tenant_id          bigint      NOT NULL REFERENCES public.tenants (id),
    number             text        NOT NULL DEFAULT '',
    status             text        NOT NULL,
    currency           text        NOT NULL,
    amount_due         bigint      NOT NULL DEFAULT 0,
    amount_paid        bigint      NOT NULL DEFAULT 0,
    hosted_invoice_url text        NOT NULL DEFAULT '',
    period_start       timestamptz,
    period_end         timestamptz,
    created            timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX invoices_tenant_idx ON public.invoices (tenant_id, created DESC);

-- Usage reported to Stripe for metered prices: the quantity last set for a billing period, so
-- a report is sent only when the count moved.
CREATE TABLE public.usage_reports (
    tenant_id    bigint      NOT NULL REFERENCES public.tenants (id),
    period_start timestamptz NOT NULL,
    quantity     bigint      NOT NULL CHECK (quantity >= 0),
    reported_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, period_start)
);

-- +goose Down
DROP TABLE public.usage_reports;
DROP TABLE public.invoices;
DROP TABLE public.billing_events;
DROP TABLE public.signups;
DROP TABLE public.subscriptions;
DROP INDEX public.tenants_delete_after_idx;
ALTER TABLE public.tenants DROP CONSTRAINT tenants_hold_matches_status;
ALTER TABLE public.tenants DROP COLUMN delete_after, DROP COLUMN hold;
