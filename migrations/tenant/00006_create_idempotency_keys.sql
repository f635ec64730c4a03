-- +goose Up
-- Replies to money-moving POSTs by Idempotency-Key: a retried request gets the first reply,
-- a reused key with a different request is refused.
CREATE TABLE idempotency_keys (
    key          text        NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
    operation    text        NOT NULL,
    principal    text        NOT NULL,
    request_hash bytea       NOT NULL,
    status       int         NOT NULL,
    response     bytea       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (principal, operation, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

-- +goose Down
DROP TABLE idempotency_keys;
