-- +goose Up
-- Money coming in (internal/payments): a student paying an order or loading the wallet, through
-- the wallet, Stripe, cash marked by staff, or a staff credit. The ledger holds the amounts that
-- moved; a row here is the provider-side story (pending Stripe intents, who marked cash, why).
-- The Stripe client secret is never stored: it is handed to the student once.
CREATE TABLE payments (
    id              uuid        PRIMARY KEY,
    purpose         text        NOT NULL CHECK (purpose IN ('order', 'topup')),
    order_id        uuid        REFERENCES orders (id),
    user_id         uuid        NOT NULL REFERENCES users (id),
    provider        text        NOT NULL CHECK (provider IN ('wallet', 'stripe', 'offline', 'staff')),
    method          text        CHECK (method IN ('card', 'alipay', 'wechat_pay')),
    amount          bigint      NOT NULL CHECK (amount > 0),
    currency        text        NOT NULL DEFAULT 'cny' CHECK (currency ~ '^[a-z]{3}$'),
    status          text        NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed', 'cancelled')),
    refunded        bigint      NOT NULL DEFAULT 0 CHECK (refunded >= 0 AND refunded <= amount),
    -- The Stripe PaymentIntent id; NULL for the other providers.
    provider_ref    text        UNIQUE,
    -- The client's Idempotency-Key; NULL when none was sent (NULLs never collide).
    idempotency_key text        CHECK (length(idempotency_key) BETWEEN 1 AND 200),
    reason          text        NOT NULL DEFAULT '' CHECK (length(reason) <= 500),
    created_by      text        NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    succeeded_at    timestamptz,
    CONSTRAINT payments_idempotency_key UNIQUE (user_id, purpose, idempotency_key),
    -- An order payment names its order, a top-up none.
    CONSTRAINT payments_order_by_purpose CHECK ((purpose = 'order') = (order_id IS NOT NULL)),
    -- Stripe payments say which payment method type the student chose; no other provider has one.
    CONSTRAINT payments_method_by_provider CHECK ((provider = 'stripe') = (method IS NOT NULL)),
    CONSTRAINT payments_succeeded_at CHECK ((status = 'succeeded') = (succeeded_at IS NOT NULL))
);
-- An order's payments (pay, refund, order detail).
CREATE INDEX payments_order_idx ON payments (order_id) WHERE order_id IS NOT NULL;
-- A user's payments, newest first.
CREATE INDEX payments_user_idx ON payments (user_id, created_at DESC);

-- Money going back the way it came, at most what the payment has left. A refund of a provider
-- that confirms later (Stripe) is pending until it does; a failed one gives the amount back to
-- the payment.
CREATE TABLE refunds (
    id              uuid        PRIMARY KEY,
    payment_id      uuid        NOT NULL REFERENCES payments (id),
    amount          bigint      NOT NULL CHECK (amount > 0),
    reason          text        NOT NULL CHECK (length(btrim(reason)) BETWEEN 1 AND 500),
    -- The Stripe refund id; NULL for the other providers.
    provider_ref    text        UNIQUE,
    status          text        NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    idempotency_key text        CHECK (length(idempotency_key) BETWEEN 1 AND 200),
    created_by      text        NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT refunds_idempotency_key UNIQUE (payment_id, idempotency_key)
);
CREATE INDEX refunds_payment_idx ON refunds (payment_id, created_at);

-- +goose Down
DROP TABLE refunds;
DROP TABLE payments;
