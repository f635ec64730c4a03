-- +goose Up
-- The finance screen reads journals by time: this month's totals and the date filter.
CREATE INDEX ledger_journals_created_idx ON ledger_journals (created_at);

-- +goose Down
DROP INDEX ledger_journals_created_idx;
