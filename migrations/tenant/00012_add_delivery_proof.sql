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

-- +goose Down
DROP INDEX orders_hall_idx;
ALTER TABLE orders DROP COLUMN proof_photo_id, DROP COLUMN delivery_attempts;
