-- +goose Up
-- Where a courier went while carrying an order: the live positions (kept in Redis) that arrived
-- while the order was accepted or picked up, written in batches by internal/tracking. A point
-- is stored once per active order of its courier, so an order's trail is one index range.
-- courier_id is copied from orders.courier_id at write time, which already references users.
CREATE TABLE courier_trail (
    id         bigserial        PRIMARY KEY,
    courier_id uuid             NOT NULL,
    order_id   uuid             NOT NULL REFERENCES orders (id),
    at         timestamptz      NOT NULL,
    lng        double precision NOT NULL CHECK (lng BETWEEN -180 AND 180),
    lat        double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
    -- Metres, as the device reported it; NULL when it did not say.
    accuracy   real             CHECK (accuracy > 0 AND accuracy <= 5000),
    -- (0,0) is what a broken GPS reports, never a campus.
    CHECK (lng <> 0 OR lat <> 0)
);
-- The trail of one order in time order. Unique because a courier's fix times strictly increase
-- and an order has one courier at a time: a batch written twice (a flusher that committed but
-- died before acknowledging it to Redis) adds nothing the second time.
CREATE UNIQUE INDEX courier_trail_order_at_key ON courier_trail (order_id, at);

-- +goose Down
DROP TABLE courier_trail;
