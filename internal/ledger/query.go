package ledger

import (
	"fmt"
	"math"
	"time"

	"gorm.io/gorm"
)

// Balance is a's cached balance, 0 for an account that was never used. It does not lock: a
// decision that must hold until commit (can this wallet pay?) belongs to Post, which locks.
func Balance(tx *gorm.DB, a AccountRef) (Money, error) {
	var b int64
	err := tx.Raw(`SELECT balance FROM ledger_accounts WHERE kind = $1::text AND owner = $2::text`,
		string(a.Kind), a.Owner).Scan(&b).Error
	if err != nil {
		return 0, fmt.Errorf("balance of %s: %w", a, err)
	}
	return Money(b), nil
}

// Posting is one entry as seen from its account: a line of a wallet statement.
type Posting struct {
	EntryID   int64 // the cursor for History's beforeID
	JournalID string
	Kind      JournalKind
	Ref       string
	Memo      string
	Amount    Money // positive: money came into the account
	CreatedAt time.Time
}

// MaxHistory caps one page of History.
const MaxHistory = 200

// History pages through a's entries, newest first: the limit (1..MaxHistory; 0 means 50)
// entries older than entry beforeID, or the newest ones when beforeID is 0. Pass the last
// EntryID of a page to get the next.
func History(tx *gorm.DB, a AccountRef, beforeID int64, limit int) ([]Posting, error) {
	if beforeID <= 0 {
		beforeID = math.MaxInt64
	}
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, MaxHistory)
	rows, err := tx.Raw(`
SELECT e.id, e.journal_id::text, j.kind, j.ref, j.memo, e.amount, e.created_at
FROM ledger_entries e
JOIN ledger_journals j ON j.id = e.journal_id
WHERE e.account_id = (SELECT id FROM ledger_accounts WHERE kind = $1::text AND owner = $2::text)
  AND e.id < $3::bigint
ORDER BY e.id DESC
LIMIT $4::int`, string(a.Kind), a.Owner, beforeID, limit).Rows()
	if err != nil {
		return nil, fmt.Errorf("history of %s: %w", a, err)
	}
	defer rows.Close()
	var out []Posting
	for rows.Next() {
		var p Posting
		if err := rows.Scan(&p.EntryID, &p.JournalID, &p.Kind, &p.Ref, &p.Memo, &p.Amount, &p.CreatedAt); err != nil {
			return nil, fmt.Errorf("history of %s: %w", a, err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("history of %s: %w", a, err)
	}
	return out, nil
}

// JournalsByRef lists the journals posted for ref (an order's payment, refunds and settlement)
// in the order they were posted, each with its entries.
func JournalsByRef(tx *gorm.DB, ref string) ([]Posted, error) {
	if ref == "" {
		return nil, nil
	}
	// ref <> '' lets the planner use the partial index on ref.
	rows, err := tx.Raw(`
SELECT j.id::text, j.kind, j.ref, coalesce(j.idempotency_key, ''), j.memo, j.created_by, j.created_at,
       a.kind, a.owner, e.amount
FROM ledger_journals j
JOIN ledger_entries e ON e.journal_id = j.id
JOIN ledger_accounts a ON a.id = e.account_id
WHERE j.ref = $1::text AND j.ref <> ''
ORDER BY e.id`, ref).Rows()
	if err != nil {
		return nil, fmt.Errorf("journals of %s: %w", ref, err)
	}
	defer rows.Close()
	var out []Posted
	at := map[string]int{} // journal id -> index in out; entry ids order journals by posting
	for rows.Next() {
		var p Posted
		var e Entry
		if err := rows.Scan(&p.ID, &p.Kind, &p.Ref, &p.IdempotencyKey, &p.Memo, &p.Actor, &p.CreatedAt,
			&e.Account.Kind, &e.Account.Owner, &e.Amount); err != nil {
			return nil, fmt.Errorf("journals of %s: %w", ref, err)
		}
		i, ok := at[p.ID]
		if !ok {
			i = len(out)
			at[p.ID] = i
			out = append(out, p)
		}
		out[i].Entries = append(out[i].Entries, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("journals of %s: %w", ref, err)
	}
	return out, nil
}
