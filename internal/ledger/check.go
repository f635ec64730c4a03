package ledger

import (
	"database/sql"
	"fmt"
	"strings"

	"gorm.io/gorm"
)

// Problem codes found by Check.
const (
	ProblemUnbalanced   = "unbalanced_journal" // a journal with fewer than two entries or entries not summing to zero
	ProblemStaleBalance = "balance_mismatch"   // an account's cached balance differs from the sum of its entries
	ProblemOverdrawn    = "overdrawn"          // a must-not-go-negative account was below zero after some entry
	ProblemTotal        = "nonzero_total"      // all balances together are not zero: money was made or lost
)

// Problem is one broken invariant.
type Problem struct {
	Code    string
	Journal string     // for ProblemUnbalanced
	Account AccountRef // for ProblemStaleBalance and ProblemOverdrawn
	Detail  string
}

func (p Problem) String() string {
	switch {
	case p.Journal != "":
		return fmt.Sprintf("%s journal %s: %s", p.Code, p.Journal, p.Detail)
	case p.Account.Kind != "":
		return fmt.Sprintf("%s account %s: %s", p.Code, p.Account, p.Detail)
	}
	return fmt.Sprintf("%s: %s", p.Code, p.Detail)
}

// Report is what Check found; no Problems means the ledger is sound.
type Report struct {
	Journals, Accounts, Entries int64
	Total                       Money // sum of all cached balances; zero in a sound ledger
	Problems                    []Problem
	Truncated                   bool // more than maxProblems of one code; only the first are listed
}

// Clean reports whether Check found nothing wrong.
func (r Report) Clean() bool { return len(r.Problems) == 0 }

func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d journals, %d entries, %d accounts, total %d: ", r.Journals, r.Entries, r.Accounts, r.Total)
	if r.Clean() {
		b.WriteString("clean")
		return b.String()
	}
	fmt.Fprintf(&b, "%d problems", len(r.Problems))
	if r.Truncated {
		b.WriteString(" (truncated)")
	}
	for _, p := range r.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

const maxProblems = 1000

// Check proves the tenant's ledger sound: every journal has at least two entries summing to
// zero, every cached balance equals the sum of its account's entries, no must-not-go-negative
// account was ever below zero (replaying its entries in posting order), and all balances sum to
// zero. It reads every entry, so it is for the `ledger check` command, tests and audits, not for
// request paths.
//
// Each invariant is checked by one statement, so it sees one snapshot even while journals are
// being posted concurrently under READ COMMITTED; Check reports no false problems on a busy
// tenant. The counts and the total are informational and may come from a slightly later
// snapshot than the problems.
func Check(tx *gorm.DB) (Report, error) {
	var r Report
	row := tx.Raw(`
SELECT (SELECT count(*) FROM ledger_journals),
       (SELECT count(*) FROM ledger_entries),
       (SELECT count(*) FROM ledger_accounts),
       (SELECT coalesce(sum(balance), 0)::bigint FROM ledger_accounts)`).Row()
	if err := row.Scan(&r.Journals, &r.Entries, &r.Accounts, &r.Total); err != nil {
		return r, fmt.Errorf("ledger check: count: %w", err)
	}
	if r.Total != 0 {
		r.Problems = append(r.Problems, Problem{Code: ProblemTotal, Detail: fmt.Sprintf("balances sum to %d", r.Total)})
	}

	err := r.collect(tx, `
SELECT j.id::text, count(e.id), coalesce(sum(e.amount), 0)::text
FROM ledger_journals j
LEFT JOIN ledger_entries e ON e.journal_id = j.id
GROUP BY j.id
HAVING count(e.id) < 2 OR coalesce(sum(e.amount), 0) <> 0
ORDER BY j.id
LIMIT $1::int`, []any{maxProblems + 1}, func(rows *sql.Rows) (Problem, error) {
		var p Problem
		var n int64
		var sum string
		err := rows.Scan(&p.Journal, &n, &sum)
		p.Code, p.Detail = ProblemUnbalanced, fmt.Sprintf("%d entries summing to %s", n, sum)
		return p, err
	})
	if err != nil {
		return r, fmt.Errorf("ledger check: journals: %w", err)
	}

	err = r.collect(tx, `
SELECT a.kind, a.owner, a.balance, coalesce(s.total, 0)::text
FROM ledger_accounts a
LEFT JOIN (SELECT account_id, sum(amount) AS total FROM ledger_entries GROUP BY account_id) s ON s.account_id = a.id
WHERE a.balance <> coalesce(s.total, 0)
ORDER BY a.id
LIMIT $1::int`, []any{maxProblems + 1}, func(rows *sql.Rows) (Problem, error) {
		var p Problem
		var cached int64
		var sum string
		err := rows.Scan(&p.Account.Kind, &p.Account.Owner, &cached, &sum)
		p.Code, p.Detail = ProblemStaleBalance, fmt.Sprintf("cached balance %d, entries sum to %s", cached, sum)
		return p, err
	})
	if err != nil {
		return r, fmt.Errorf("ledger check: balances: %w", err)
	}

	// Entry ids order an account's entries as they were applied: Post locks the account row
	// before inserting, so a later journal on the same account gets later ids.
	var negative []string
	for k, v := range kinds {
		if v.negative {
			negative = append(negative, string(k))
		}
	}
	err = r.collect(tx, `
SELECT a.kind, a.owner, r.low::text
FROM (
    SELECT account_id, min(running) AS low
    FROM (SELECT account_id, sum(amount) OVER (PARTITION BY account_id ORDER BY id) AS running FROM ledger_entries) t
    GROUP BY account_id
) r
JOIN ledger_accounts a ON a.id = r.account_id
WHERE r.low < 0 AND a.kind <> ALL ($1::text[])
ORDER BY a.id
LIMIT $2::int`, []any{negative, maxProblems + 1}, func(rows *sql.Rows) (Problem, error) {
		var p Problem
		var low string
		err := rows.Scan(&p.Account.Kind, &p.Account.Owner, &low)
		p.Code, p.Detail = ProblemOverdrawn, fmt.Sprintf("fell to %s", low)
		return p, err
	})
	if err != nil {
		return r, fmt.Errorf("ledger check: overdrafts: %w", err)
	}
	return r, nil
}

// collect appends the problems one query finds, at most maxProblems of them.
func (r *Report) collect(tx *gorm.DB, query string, args []any, scan func(*sql.Rows) (Problem, error)) error {
	rows, err := tx.Raw(query, args...).Rows()
	if err != nil {
		return err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		if n++; n > maxProblems {
			r.Truncated = true
			break
		}
		p, err := scan(rows)
		if err != nil {
			return err
		}
		r.Problems = append(r.Problems, p)
	}
	return rows.Err()
}
