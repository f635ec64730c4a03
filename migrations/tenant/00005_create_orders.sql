-- +goose Up
-- Errands. The form values a student typed (pickup codes, room numbers, phones) are personal
-- data and stored as one AEAD ciphertext; place names and coordinates are campus facts.
CREATE TABLE orders (
    id                uuid PRIMARY KEY,
    number            bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    student_id        uuid        NOT NULL REFERENCES users (id),
    courier_id        uuid        REFERENCES users (id),
    task_type         text        NOT NULL REFERENCES task_types (key),
    status            text        NOT NULL CHECK (status IN ('awaiting_payment', 'awaiting_courier', 'accepted',
                                  'picked_up', 'delivered', 'completed', 'cancelled', 'expired', 'refunded')),
    exception         text,
    exception_note    text,
    pickup_place_id   uuid        REFERENCES places (id),
    pickup_name       text        NOT NULL CHECK (length(pickup_name) BETWEEN 1 AND 80),
    pickup_lng        double precision NOT NULL CHECK (pickup_lng BETWEEN -180 AND 180),
    pickup_lat        double precision NOT NULL CHECK (pickup_lat BETWEEN -90 AND 90),
    dropoff_place_id  uuid        REFERENCES places (id),
    dropoff_name      text        NOT NULL CHECK (length(dropoff_name) BETWEEN 1 AND 80),
    dropoff_lng       double precision NOT NULL CHECK (dropoff_lng BETWEEN -180 AND 180),
    dropoff_lat       double precision NOT NULL CHECK (dropoff_lat BETWEEN -90 AND 90),
    size              text        NOT NULL DEFAULT '',
    minutes           int         NOT NULL DEFAULT 0 CHECK (minutes BETWEEN 0 AND 600),
    form_enc          bytea       NOT NULL,
    window_start      timestamptz,
    window_end        timestamptz CHECK (window_end IS NULL OR window_start IS NULL OR window_end > window_start),
    distance_m        int         NOT NULL CHECK (distance_m >= 0),
    price_lines       jsonb       NOT NULL,
    total             bigint      NOT NULL CHECK (total >= 0),
    tip               bigint      NOT NULL DEFAULT 0 CHECK (tip >= 0 AND tip <= total),
    courier_share_bp  int         NOT NULL CHECK (courier_share_bp BETWEEN 0 AND 10000),
    quote_id          text        NOT NULL UNIQUE,
    paid_amount       bigint      NOT NULL DEFAULT 0 CHECK (paid_amount >= 0),
    refunded_amount   bigint      NOT NULL DEFAULT 0 CHECK (refunded_amount >= 0 AND refunded_amount <= paid_amount),
    payment_provider  text,
    pay_by            timestamptz NOT NULL,
    paid_at           timestamptz,
    accepted_at       timestamptz,
    picked_up_at      timestamptz,
    delivered_at      timestamptz,
    completed_at      timestamptz,
    cancelled_at      timestamptz,
    cancel_reason     text,
    delivery_code_enc bytea,
    version           int         NOT NULL DEFAULT 1,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_student_idx ON orders (student_id, created_at DESC);
CREATE INDEX orders_status_idx ON orders (status, created_at DESC);
CREATE INDEX orders_courier_idx ON orders (courier_id, status) WHERE courier_id IS NOT NULL;
CREATE INDEX orders_created_idx ON orders (created_at DESC);
CREATE INDEX orders_pay_by_idx ON orders (pay_by) WHERE status = 'awaiting_payment';
CREATE INDEX orders_delivered_idx ON orders (delivered_at) WHERE status = 'delivered';

-- Every status change, in order: who, from, to, why.
CREATE TABLE order_events (
    id          bigserial PRIMARY KEY,
    order_id    uuid        NOT NULL REFERENCES orders (id),
    event       text        NOT NULL,
    from_status text,
    to_status   text        NOT NULL,
    actor_kind  text        NOT NULL CHECK (actor_kind IN ('student', 'courier', 'staff', 'system')),
    actor_id    text        NOT NULL DEFAULT '',
    reason      text        NOT NULL DEFAULT '',
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_events_order_idx ON order_events (order_id, id);

-- One review per order, by its student, of its courier.
CREATE TABLE order_reviews (
    order_id   uuid PRIMARY KEY REFERENCES orders (id),
    student_id uuid        NOT NULL REFERENCES users (id),
    courier_id uuid        REFERENCES users (id),
    rating     smallint    NOT NULL CHECK (rating BETWEEN 1 AND 5),
    tags       text[]      NOT NULL DEFAULT '{}',
    comment    text        NOT NULL DEFAULT '' CHECK (length(comment) <= 500),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_reviews_courier_idx ON order_reviews (courier_id, created_at DESC);

-- Staff notes on an order (never shown to the student or courier).
CREATE TABLE order_notes (
    id         bigserial PRIMARY KEY,
    order_id   uuid        NOT NULL REFERENCES orders (id),
    author     text        NOT NULL,
    note       text        NOT NULL CHECK (length(note) BETWEEN 1 AND 1000),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_notes_order_idx ON order_notes (order_id, id);

-- +goose Down
DROP TABLE order_notes;
DROP TABLE order_reviews;
DROP TABLE order_events;
DROP TABLE orders;
