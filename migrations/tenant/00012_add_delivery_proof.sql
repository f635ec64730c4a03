-- +goose Up
-- The courier's trip: wrong delivery codes are counted (a courier gets a few tries, then the
-- order needs the student or staff), and a photo can stand in for the code where the tenant
-- allows it (the photo lives in order_photos, see 00010).
ALTER TABLE orders
    ADD COLUMN delivery_attempts int  NOT NULL DEFAULT 0 CHECK (delivery_attempts >= 0),
    ADD COLUMN proof_photo_id    uuid;

-- The task hall reads open orders newest first; the partial index keeps that cheap however
-- many finished orders a tenant has.
CREATE INDEX orders_hall_idx ON orders (paid_at DESC) WHERE status = 'awaiting_courier';

-- How far each order's timeline has been published live. Status-change tasks may run out of
-- order on several workers; whichever runs takes this row's lock and publishes every event
-- after the cursor in timeline order, so subscribers see each change once and in order.
CREATE TABLE order_live_cursors (
    order_id           uuid PRIMARY KEY REFERENCES orders (id),
    published_event_id bigint NOT NULL DEFAULT 0,
    -- The courier as of the last published event: who to tell when the order is taken away.
    courier_id         uuid
);

-- +goose Down
DROP TABLE order_live_cursors;
DROP INDEX orders_hall_idx;
ALTER TABLE orders DROP COLUMN proof_photo_id, DROP COLUMN delivery_attempts;
