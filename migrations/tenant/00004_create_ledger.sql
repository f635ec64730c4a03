-- +goose Up
-- The double-entry ledger (internal/ledger). Every money movement is one journal whose entries
-- sum to zero; an account's balance is the sum of its entries, cached on the account row so
-- reads and overdraft checks need no aggregate. internal/ledger writes these tables; the
-- constraints and triggers below are the last line of defence against any other writer.

-- One row per (kind, owner): a student's wallet, one order's escrow, a courier's earnings, a
-- payment provider's clearing or refunds-in-flight, and the tenant-wide revenue and promotion
-- subsidy. A positive balance is money held in the account.
CREATE TABLE ledger_accounts (
    id         bigserial   PRIMARY KEY,
    kind       text        NOT NULL CHECK (kind IN ('wallet', 'escrow', 'earnings', 'revenue', 'clearing', 'refunds', 'subsidy')),
    owner      text        NOT NULL DEFAULT '' CONSTRAINT ledger_accounts_owner_length CHECK (length(owner) <= 100),
    balance    bigint      NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ledger_accounts_kind_owner_key UNIQUE (kind, owner),
    -- Revenue and subsidy are one account per tenant; every other kind belongs to someone.
    CONSTRAINT ledger_accounts_owner_by_kind CHECK ((kind IN ('revenue', 'subsidy')) = (owner = '')),
    -- Only accounts that mirror money outside the tenant's books (what a provider holds, what
    -- promotions cost) may go below zero; anything else negative is money that never existed.
    CONSTRAINT ledger_accounts_no_overdraft CHECK (balance >= 0 OR kind IN ('clearing', 'subsidy'))
);

CREATE TABLE ledger_journals (
    id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    kind            text        NOT NULL CHECK (kind IN ('payment', 'topup', 'settlement', 'refund', 'withdrawal', 'adjustment', 'promotion')),
    ref             text        NOT NULL DEFAULT '',
    -- NULL for journals posted without a key; NULLs never collide.
    idempotency_key text        CONSTRAINT ledger_journals_idempotency_key_key UNIQUE,
    memo            text        NOT NULL DEFAULT '',
    created_by      text        NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now()
);
-- The admin order detail lists the journals of one order.
CREATE INDEX ledger_journals_ref_idx ON ledger_journals (ref) WHERE ref <> '';

CREATE TABLE ledger_entries (
    id         bigserial   PRIMARY KEY,
    journal_id uuid        NOT NULL REFERENCES ledger_journals (id),
    account_id bigint      NOT NULL REFERENCES ledger_accounts (id),
    amount     bigint      NOT NULL CHECK (amount <> 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    -- One line per account per journal; also the index for a journal's entries.
    CONSTRAINT ledger_entries_journal_account_key UNIQUE (journal_id, account_id)
);
-- An account's history, newest first, paged by entry id.
CREATE INDEX ledger_entries_account_idx ON ledger_entries (account_id, id);

-- A journal must have at least two entries summing to zero. Checked at commit (deferred), so a
-- journal and its entries can be written by separate statements of one transaction. The
-- search_path is pinned to the schema this migration runs in, so the check reads this
-- schema's entries whatever the session's path is.
-- +goose StatementBegin
CREATE FUNCTION ledger_journal_balanced() RETURNS trigger
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
    jid   uuid;
    n     bigint;
    total numeric;
BEGIN
    IF TG_TABLE_NAME = 'ledger_journals' THEN
        jid := NEW.id;
    ELSE
        jid := NEW.journal_id;
    END IF;
    SELECT count(*), coalesce(sum(amount), 0) INTO n, total FROM ledger_entries WHERE journal_id = jid;
    IF n < 2 OR total <> 0 THEN
        RAISE EXCEPTION 'ledger journal % is unbalanced: % entries summing to %', jid, n, total
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_journal_balanced';
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE CONSTRAINT TRIGGER ledger_journals_balanced
    AFTER INSERT ON ledger_journals
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_journal_balanced();

CREATE CONSTRAINT TRIGGER ledger_entries_balanced
    AFTER INSERT ON ledger_entries
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_journal_balanced();

-- Journals and entries are history: a mistake is corrected by posting a reversing journal,
-- never by editing the past (which would also invalidate the cached balances).
-- +goose StatementBegin
CREATE FUNCTION ledger_append_only() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: post a correcting journal instead', TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END
$$;
-- +goose StatementEnd

CREATE TRIGGER ledger_journals_append_only
    BEFORE UPDATE OR DELETE ON ledger_journals
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();

CREATE TRIGGER ledger_entries_append_only
    BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();

CREATE TRIGGER ledger_journals_no_truncate
    BEFORE TRUNCATE ON ledger_journals
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();

CREATE TRIGGER ledger_entries_no_truncate
    BEFORE TRUNCATE ON ledger_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();

-- +goose Down
DROP TABLE ledger_entries;
DROP TABLE ledger_journals;
DROP TABLE ledger_accounts;
DROP FUNCTION ledger_append_only();
DROP FUNCTION ledger_journal_balanced();
