-- +goose Up
-- Messages between an order's student, its courier and staff. Bodies carry phone and room
-- numbers, so they are AEAD ciphertexts (pii.Cipher, field orderchat.body); who sent them and
-- when are kept in clear for the rate limit and the admin timeline.
CREATE TABLE order_messages (
    id          bigserial PRIMARY KEY,
    order_id    uuid        NOT NULL REFERENCES orders (id),
    sender_id   uuid        NOT NULL REFERENCES users (id),
    sender_kind text        NOT NULL CHECK (sender_kind IN ('student', 'courier', 'staff')),
    body_enc    bytea       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
-- Reading a chat pages by id within an order; the per-sender rate limit counts a sender's
-- recent messages in one order.
CREATE INDEX order_messages_order_idx ON order_messages (order_id, id);
CREATE INDEX order_messages_sender_idx ON order_messages (order_id, sender_id, created_at);

-- Photos a courier took on the trip (proof of delivery). The bytes live in file storage under
-- storage_key; the row says whose and what they are, with their SHA-256 for disputes.
CREATE TABLE order_photos (
    id           uuid PRIMARY KEY,
    order_id     uuid        NOT NULL REFERENCES orders (id),
    uploaded_by  uuid        NOT NULL REFERENCES users (id),
    storage_key  text        NOT NULL UNIQUE CHECK (length(storage_key) BETWEEN 1 AND 512),
    content_type text        NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp')),
    size_bytes   bigint      NOT NULL CHECK (size_bytes > 0),
    sha256       bytea       NOT NULL CHECK (length(sha256) = 32),
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_photos_order_idx ON order_photos (order_id, created_at);

-- +goose Down
DROP TABLE order_photos;
DROP TABLE order_messages;
