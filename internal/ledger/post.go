package ledger

import (
	"fmt"
	"slices"

	"gorm.io/gorm"
)

// Post writes j in tx, the caller's tenant transaction, and returns the new journal's id. The
// journal becomes visible, and its balances take effect, when the caller commits; if the
// caller rolls back, the movement never happened.
//
// Post creates accounts on first use, then locks every account the journal touches in one
// fixed order (kind, then owner, byte-wise), so concurrent journals over the same accounts
// queue instead of deadlocking. It holds those row locks until the caller's transaction ends:
// post as late as the business change allows. It refuses, without writing the journal:
//   - a malformed journal (ErrInvalid) or one that does not sum to zero (ErrUnbalanced),
//     before touching the database;
//   - a journal that would take a must-not-go-negative account below zero, with a *FundsError
//     naming it (ErrInsufficientFunds);
//   - an idempotency key that was used before: with the earlier journal's id and ErrDuplicate
//     when it was the same movement (kind, ref and entries), ErrKeyReused when not.
//
// These refusals raise no SQL error, so tx stays usable: a caller may, say, fall back from the
// wallet to a card after ErrInsufficientFunds. The only trace one can leave is an empty account
// (balance 0, no entries) created for the attempt. Any other error is a database error that
// has aborted tx; the caller must roll back.
func Post(tx *gorm.DB, j Journal) (journalID string, err error) {
	es, err := j.validate()
	if err != nil {
		return "", err
	}
	// Outside a transaction every statement would commit on its own: the lock would be gone
	// before the balance was written, and a failure would leave half a journal.
	if _, ok := tx.Statement.ConnPool.(gorm.TxCommitter); !ok {
		return "", ErrNoTransaction
	}
	locked, err := lockAccounts(tx, es)
	if err != nil {
		return "", err
	}
	if j.IdempotencyKey != "" {
		// Before the balance check, so that a retried payment whose wallet has since been spent
		// learns it already happened, not that the wallet is short. And after the locks: a
		// racing post of the same journal holds them until it commits, so by now it is
		// visible here.
		if id, err := replay(tx, j.IdempotencyKey, j.Kind, j.Ref, es); id != "" || err != nil {
			return id, err
		}
	}
	amounts := make([]int64, len(es))
	for i, e := range es {
		amounts[i] = int64(e.Amount)
	}
	for i, e := range es {
		if bal := Money(locked[i].balance); !e.Account.Kind.AllowsNegative() && bal+e.Amount < 0 {
			return "", &FundsError{Account: e.Account, Balance: bal, Change: e.Amount}
		}
	}
	accountIDs := make([]int64, len(locked))
	for i, a := range locked {
		accountIDs[i] = a.id
	}
	// One round trip writes the journal, its entries and the new balances. When the key was
	// taken by a transaction that committed after replay looked, the journal insert yields no
	// row and the entries and balance updates, which join on it, do nothing.
	var id string
	err = tx.Raw(`
WITH j AS (
    INSERT INTO ledger_journals (kind, ref, idempotency_key, memo, created_by)
    VALUES ($1::text, $2::text, NULLIF($3::text, ''), $4::text, $5::text)
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id
), e AS (
    INSERT INTO ledger_entries (journal_id, account_id, amount)
    SELECT j.id, v.account_id, v.amount
    FROM j, unnest($6::bigint[], $7::bigint[]) AS v (account_id, amount)
), u AS (
    UPDATE ledger_accounts a
    SET balance = a.balance + v.amount, updated_at = now()
    FROM unnest($6::bigint[], $7::bigint[]) AS v (account_id, amount)
    WHERE a.id = v.account_id AND EXISTS (SELECT 1 FROM j)
)
SELECT id::text FROM j`,
		string(j.Kind), j.Ref, j.IdempotencyKey, j.Memo, j.Actor, accountIDs, amounts).Scan(&id).Error
	if err != nil {
		return "", fmt.Errorf("post %s journal: %w", j.Kind, err)
	}
	if id != "" {
		return id, nil
	}
	if j.IdempotencyKey != "" {
		if id, err := replay(tx, j.IdempotencyKey, j.Kind, j.Ref, es); id != "" || err != nil {
			return id, err
		}
	}
	return "", fmt.Errorf("post %s journal: the insert returned no id", j.Kind)
}

type lockedAccount struct {
	id      int64
	balance int64
}

// lockAccounts creates the missing accounts and locks all of es's accounts, returning their ids
// and balances in es's order. Both steps go in the same order as es (kind, owner, byte-wise):
// an account being created by another transaction blocks like a locked row, so creating in
// order and then locking in order never waits in a cycle.
func lockAccounts(tx *gorm.DB, es []Entry) ([]lockedAccount, error) {
	kinds := make([]string, len(es))
	owners := make([]string, len(es))
	for i, e := range es {
		kinds[i], owners[i] = string(e.Account.Kind), e.Account.Owner
	}
	// NOT EXISTS keeps the id sequence from being spent on accounts that already exist.
	err := tx.Exec(`
INSERT INTO ledger_accounts (kind, owner)
SELECT v.kind, v.owner
FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS v (kind, owner, n)
WHERE NOT EXISTS (SELECT 1 FROM ledger_accounts a WHERE a.kind = v.kind AND a.owner = v.owner)
ORDER BY v.n
ON CONFLICT (kind, owner) DO NOTHING`, kinds, owners).Error
	if err != nil {
		return nil, fmt.Errorf("create ledger accounts: %w", err)
	}
	rows, err := tx.Raw(`
SELECT id, kind, owner, balance
FROM ledger_accounts
WHERE (kind, owner) IN (SELECT * FROM unnest($1::text[], $2::text[]))
ORDER BY kind COLLATE "C", owner COLLATE "C"
FOR UPDATE`, kinds, owners).Rows()
	if err != nil {
		return nil, fmt.Errorf("lock ledger accounts: %w", err)
	}
	defer rows.Close()
	out := make([]lockedAccount, 0, len(es))
	for rows.Next() {
		var a lockedAccount
		var ref AccountRef
		if err := rows.Scan(&a.id, &ref.Kind, &ref.Owner, &a.balance); err != nil {
			return nil, fmt.Errorf("lock ledger accounts: %w", err)
		}
		// Both sides are in byte order, so row i is entry i; anything else is a bug.
		if i := len(out); i >= len(es) || es[i].Account != ref {
			return nil, fmt.Errorf("lock ledger accounts: got %s out of order", ref)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("lock ledger accounts: %w", err)
	}
	if len(out) != len(es) {
		return nil, fmt.Errorf("lock ledger accounts: found %d of %d", len(out), len(es))
	}
	return out, nil
}

// replay looks up the journal posted under key. It returns "" and nil when there is none, the
// journal's id and ErrDuplicate when it is the same movement, its id and ErrKeyReused when not.
func replay(tx *gorm.DB, key string, kind JournalKind, ref string, es []Entry) (string, error) {
	rows, err := tx.Raw(`
SELECT j.id::text, j.kind, j.ref, a.kind, a.owner, e.amount
FROM ledger_journals j
JOIN ledger_entries e ON e.journal_id = j.id
JOIN ledger_accounts a ON a.id = e.account_id
WHERE j.idempotency_key = $1::text
ORDER BY a.kind COLLATE "C", a.owner COLLATE "C"`, key).Rows()
	if err != nil {
		return "", fmt.Errorf("look up idempotency key: %w", err)
	}
	defer rows.Close()
	var (
		id, gotRef string
		gotKind    JournalKind
		got        []Entry
	)
	for rows.Next() {
		var e Entry
		if err := rows.Scan(&id, &gotKind, &gotRef, &e.Account.Kind, &e.Account.Owner, &e.Amount); err != nil {
			return "", fmt.Errorf("look up idempotency key: %w", err)
		}
		got = append(got, e)
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("look up idempotency key: %w", err)
	}
	if id == "" {
		return "", nil
	}
	if gotKind != kind || gotRef != ref || !slices.Equal(got, es) {
		return id, fmt.Errorf("%w: key %q is journal %s", ErrKeyReused, key, id)
	}
	return id, fmt.Errorf("%w: key %q is journal %s", ErrDuplicate, key, id)
}
