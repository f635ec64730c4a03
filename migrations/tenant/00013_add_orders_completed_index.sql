-- +goose Up
-- GMV and earnings read completed orders by completion time (platform dashboard, tenant detail).
CREATE INDEX orders_completed_idx ON orders (completed_at) WHERE completed_at IS NOT NULL;

-- +goose Down
DROP INDEX orders_completed_idx;
