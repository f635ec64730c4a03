-- +goose Up
-- What a tenant subscribes to. Amounts are minor units for display on the pricing page; what
-- Stripe charges is the price behind each *_price_id, attached by a super-admin (NULL until
-- then). A NULL limit is unlimited. Retired plans stay on the tenants that have them but are
-- no longer offered.
CREATE TABLE public.plans (
    id                    text PRIMARY KEY CHECK (id ~ '^[a-z][a-z0-9_-]{1,39}$'),
    name_zh               text        NOT NULL CHECK (length(name_zh) BETWEEN 1 AND 60),
    name_en               text        NOT NULL CHECK (length(name_en) BETWEEN 1 AND 60),
    monthly_price_id      text UNIQUE CHECK (monthly_price_id ~ '^price_[A-Za-z0-9_]{1,200}$'),
    yearly_price_id       text UNIQUE CHECK (yearly_price_id ~ '^price_[A-Za-z0-9_]{1,200}$'),
    -- Usage-based part of the subscription: one unit per order.
    metered_price_id      text UNIQUE CHECK (metered_price_id ~ '^price_[A-Za-z0-9_]{1,200}$'),
    currency              text        NOT NULL CHECK (currency ~ '^[a-z]{3}$'),
    monthly_amount        bigint      NOT NULL CHECK (monthly_amount >= 0),
    yearly_amount         bigint      NOT NULL CHECK (yearly_amount >= 0),
    trial_days            int         NOT NULL DEFAULT 0 CHECK (trial_days BETWEEN 0 AND 365),
    max_active_couriers   int CHECK (max_active_couriers >= 1),
    max_orders_per_month  int CHECK (max_orders_per_month >= 1),
    max_staff_seats       int CHECK (max_staff_seats >= 1),
    custom_domain         boolean     NOT NULL DEFAULT false,
    status                text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'retired')),
    sort                  int         NOT NULL DEFAULT 0,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);

INSERT INTO public.plans (id, name_zh, name_en, currency, monthly_amount, yearly_amount, trial_days,
                          max_active_couriers, max_orders_per_month, max_staff_seats, custom_domain, sort)
VALUES ('campus',     '校园版', 'Campus',     'cny',     0,       0,  0,   10,  300,    3, false, 10),
       ('pro',        '专业版', 'Pro',        'cny', 29900,  299000, 14,  100, 5000,   10, true,  20),
       ('enterprise', '企业版', 'Enterprise', 'cny', 99900,  999000, 14, NULL, NULL, NULL, true,  30);

-- A tenant's plan; NULL for tenants from before plans (and operator-made ones), which are not
-- limited until a plan is set. Subscriptions arrive with billing.
ALTER TABLE public.tenants ADD COLUMN plan_id text REFERENCES public.plans (id);
CREATE INDEX tenants_plan_idx ON public.tenants (plan_id) WHERE plan_id IS NOT NULL;

-- +goose Down
DROP INDEX public.tenants_plan_idx;
ALTER TABLE public.tenants DROP COLUMN plan_id;
DROP TABLE public.plans;
