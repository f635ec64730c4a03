package ledger

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// JournalKind says why money moved. The values are stored in ledger_journals.kind and never
// change once shipped.
type JournalKind string

const (
	Payment    JournalKind = "payment"    // a student pays for an order: wallet or provider clearing → escrow (+ subsidy for a coupon)
	TopUp      JournalKind = "topup"      // a student loads the wallet: provider clearing → wallet
	Settlement JournalKind = "settlement" // a completed order: escrow → courier earnings + tenant revenue
	Refund     JournalKind = "refund"     // money goes back the way it came: escrow → wallet, or → refunds in flight → clearing
	Withdrawal JournalKind = "withdrawal" // money leaves the books: courier earnings or wallet → provider clearing
	Adjustment JournalKind = "adjustment" // a correction by staff, always with a memo
	Promotion  JournalKind = "promotion"  // tenant-funded credit outside a payment: subsidy → wallet
)

var journalKinds = []JournalKind{Payment, TopUp, Settlement, Refund, Withdrawal, Adjustment, Promotion}

// Entry is one line of a journal. A positive Amount increases the account's balance (money
// comes into it), a negative one decreases it; a journal's amounts sum to zero.
type Entry struct {
	Account AccountRef
	Amount  Money
}

// Journal is one money movement, posted atomically with the business change it belongs to.
type Journal struct {
	Kind JournalKind
	// Ref is what the money moved for, e.g. "order:<uuid>"; JournalsByRef lists a ref's journals.
	Ref string
	// IdempotencyKey, when set, makes Post apply the journal at most once per tenant. Namespace
	// it by its source, e.g. "stripe:pi_123" or "order:<uuid>:settle".
	IdempotencyKey string
	Memo           string
	// Actor is who caused the movement, e.g. "user:<uuid>" or "system:settle".
	Actor   string
	Entries []Entry
}

// Posted is a journal as stored.
type Posted struct {
	ID        string
	CreatedAt time.Time
	Journal
}

var (
	// ErrInvalid is returned for a journal that is malformed: unknown kind, fewer than two
	// entries, a zero amount, an account named twice, an account without its owner.
	ErrInvalid = errors.New("invalid journal")
	// ErrUnbalanced is returned for a journal whose entries do not sum to zero.
	ErrUnbalanced = errors.New("journal entries do not sum to zero")
	// ErrInsufficientFunds is returned when a journal would take an account that must not go
	// negative below zero; the error is a *FundsError naming the account.
	ErrInsufficientFunds = errors.New("insufficient funds")
	// ErrDuplicate is returned, with the earlier journal's id, when a journal with the same
	// idempotency key and the same movement was already posted: the movement has happened.
	ErrDuplicate = errors.New("journal already posted")
	// ErrKeyReused is returned when an idempotency key was already used for a different
	// movement (another kind, ref, or entries); nothing is posted.
	ErrKeyReused = errors.New("idempotency key already used for a different journal")
	// ErrNoTransaction is returned when Post is given a *gorm.DB that is not in a transaction.
	ErrNoTransaction = errors.New("ledger writes need the caller's transaction")
)

// FundsError is an ErrInsufficientFunds naming the account, so a caller can tell a short wallet
// (ask the student to top up) from an over-refund (escrow has less than asked).
type FundsError struct {
	Account AccountRef
	Balance Money // before the journal
	Change  Money // the journal's (negative) amount on the account
}

func (e *FundsError) Error() string {
	return fmt.Sprintf("%s: %s holds %d, journal takes %d", ErrInsufficientFunds, e.Account, e.Balance, -e.Change)
}

// Unwrap makes errors.Is(err, ErrInsufficientFunds) true.
func (e *FundsError) Unwrap() error { return ErrInsufficientFunds }

// validate checks everything that needs no database and returns the entries in lock order.
func (j Journal) validate() ([]Entry, error) {
	if !slices.Contains(journalKinds, j.Kind) {
		return nil, fmt.Errorf("%w: unknown journal kind %q", ErrInvalid, j.Kind)
	}
	if j.Kind == Adjustment && strings.TrimSpace(j.Memo) == "" {
		return nil, fmt.Errorf("%w: an adjustment needs a memo saying why", ErrInvalid)
	}
	if len(j.Entries) < 2 {
		return nil, fmt.Errorf("%w: %d entries, need at least two", ErrInvalid, len(j.Entries))
	}
	es := slices.Clone(j.Entries)
	sortEntries(es)
	var sum Money
	overflow := false
	for i, e := range es {
		if err := e.Account.validate(); err != nil {
			return nil, err
		}
		if e.Amount == 0 {
			return nil, fmt.Errorf("%w: zero amount on %s", ErrInvalid, e.Account)
		}
		if i > 0 && es[i-1].Account == e.Account {
			return nil, fmt.Errorf("%w: %s named twice", ErrInvalid, e.Account)
		}
		if e.Amount > 0 && sum > math.MaxInt64-e.Amount || e.Amount < 0 && sum < math.MinInt64-e.Amount {
			overflow = true
		}
		sum += e.Amount
	}
	if overflow {
		return nil, fmt.Errorf("%w: amounts overflow", ErrInvalid)
	}
	if sum != 0 {
		return nil, fmt.Errorf("%w: they sum to %d", ErrUnbalanced, sum)
	}
	return es, nil
}

// sortEntries orders entries by account (kind, then owner). Post creates and locks accounts in
// this order, so two transactions touching the same accounts never wait on each other in a
// cycle.
func sortEntries(es []Entry) {
	slices.SortFunc(es, func(a, b Entry) int {
		if c := strings.Compare(string(a.Account.Kind), string(b.Account.Kind)); c != 0 {
			return c
		}
		return strings.Compare(a.Account.Owner, b.Account.Owner)
	})
}
