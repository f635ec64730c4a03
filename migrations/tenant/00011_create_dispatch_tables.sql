-- +goose Up
-- Automatic dispatch. A batch is one run of the solver over the orders waiting and the couriers
-- online; only batches that made at least one offer are kept, so the table grows with offers,
-- not with ticks. greedy_cost is what nearest-courier dispatch would have cost on the same
-- batch (with greedy_assigned orders), kept so admins can see what the solver saved.
CREATE TABLE dispatch_batches (
    id              uuid PRIMARY KEY,
    started_at      timestamptz      NOT NULL,
    mode            text             NOT NULL CHECK (mode IN ('dispatch', 'hybrid')),
    orders          int              NOT NULL CHECK (orders >= 0),
    couriers        int              NOT NULL CHECK (couriers >= 0),
    assigned        int              NOT NULL CHECK (assigned BETWEEN 0 AND orders),
    total_cost      double precision NOT NULL,
    greedy_cost     double precision NOT NULL,
    greedy_assigned int              NOT NULL CHECK (greedy_assigned BETWEEN 0 AND orders),
    duration_ms     double precision NOT NULL CHECK (duration_ms >= 0)
);
CREATE INDEX dispatch_batches_started_idx ON dispatch_batches (started_at DESC);

-- One courier's offer of one order. explanation holds the solver's cost terms (names never
-- change once shipped); reward is the courier's share as offered. Declined and expired offers
-- keep that courier away from the order for good and count against their acceptance rate;
-- withdrawn ones (the order was cancelled or grabbed meanwhile) count against nobody.
CREATE TABLE dispatch_offers (
    id             uuid PRIMARY KEY,
    order_id       uuid             NOT NULL REFERENCES orders (id),
    courier_id     uuid             NOT NULL REFERENCES users (id),
    batch_id       uuid             NOT NULL REFERENCES dispatch_batches (id),
    status         text             NOT NULL DEFAULT 'pending'
                                    CHECK (status IN ('pending', 'accepted', 'declined', 'expired', 'withdrawn')),
    cost           double precision NOT NULL,
    explanation    jsonb            NOT NULL,
    reward         bigint           NOT NULL CHECK (reward >= 0),
    expires_at     timestamptz      NOT NULL,
    created_at     timestamptz      NOT NULL DEFAULT now(),
    decided_at     timestamptz,
    decline_reason text             NOT NULL DEFAULT '' CHECK (length(decline_reason) <= 200),
    CHECK ((status = 'pending') = (decided_at IS NULL)),
    CHECK (decline_reason = '' OR status = 'declined')
);
-- Two dispatchers must never offer one order twice at once.
CREATE UNIQUE INDEX dispatch_offers_pending_order_idx ON dispatch_offers (order_id) WHERE status = 'pending';
CREATE INDEX dispatch_offers_order_idx ON dispatch_offers (order_id, created_at);
CREATE INDEX dispatch_offers_courier_idx ON dispatch_offers (courier_id, status, created_at);
CREATE INDEX dispatch_offers_pending_expiry_idx ON dispatch_offers (expires_at) WHERE status = 'pending';

-- An order that waited too long for a courier alerts the admin feed once; cleared_at is set
-- when it stops waiting.
CREATE TABLE dispatch_alerts (
    order_id   uuid PRIMARY KEY REFERENCES orders (id),
    raised_at  timestamptz NOT NULL,
    cleared_at timestamptz
);
CREATE INDEX dispatch_alerts_open_idx ON dispatch_alerts (raised_at) WHERE cleared_at IS NULL;

-- +goose Down
DROP TABLE dispatch_alerts;
DROP TABLE dispatch_offers;
DROP TABLE dispatch_batches;
