package couriers

import (
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/ledger"
)

// The functions here take the caller's transaction (store.InTenant), so unqualified tables
// resolve to the tenant's schema; none commits. Ids are parsed before they reach SQL: a
// malformed uuid would otherwise fail the statement and abort the caller's transaction,
// which for LockEligible is the grab that called it.

// lockProfile loads userID's profile FOR UPDATE; nil when there is none.
func lockProfile(tx *gorm.DB, userID string) (*profileRow, error) {
	if !validUUID(userID) {
		return nil, nil
	}
	var rows []profileRow
	err := tx.Raw(`SELECT `+profileColumns+` FROM courier_profiles WHERE user_id = ? FOR UPDATE`, userID).Scan(&rows).Error
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	return &rows[0], nil
}

// LockEligible is the courier gate. It locks the courier's profile row (SELECT ... FOR
// UPDATE) until tx ends and returns nil when the courier may take another order, else, in
// this order of precedence:
//   - ErrNotCourier: no profile, or it is pending or rejected;
//   - ErrSuspended: staff suspended the courier;
//   - ErrOffline: the courier is not online;
//   - ErrCreditTooLow: the credit score is below minCredit (the tenant's settings.MinCredit).
//
// The lock serialises one courier's concurrent grabs and assignments: a caller that counts
// the courier's active orders after LockEligible and inserts the new one before commit sees
// an exact count, since a second grab by the same courier waits here until the first commits.
// Different couriers do not wait on each other. Transactions that lock both an order and its
// courier should take them in one fixed order everywhere (this package never locks orders),
// so two of them never wait on each other in a cycle.
//
// Couriers below the credit floor may still finish their current orders; the gate only stops
// new ones, so low scores limit, not strand, work in progress. The refusals raise no SQL
// error: tx stays usable.
func LockEligible(tx *gorm.DB, courierID string, minCredit int) error {
	r, err := lockProfile(tx, courierID)
	if err != nil {
		return fmt.Errorf("lock courier %s: %w", courierID, err)
	}
	switch {
	case r == nil || r.Status == Pending || r.Status == Rejected:
		return ErrNotCourier
	case r.Status == Suspended:
		return ErrSuspended
	case !r.Online:
		return ErrOffline
	case r.CreditScore < minCredit:
		return ErrCreditTooLow
	}
	return nil
}

// CheckApproved is the gate without the lock and without availability: nil for an approved
// courier, ErrNotCourier (no profile, pending, rejected) or ErrSuspended otherwise. It suits
// reads such as the task hall, which offline couriers may browse.
func CheckApproved(tx *gorm.DB, courierID string) error {
	if !validUUID(courierID) {
		return ErrNotCourier
	}
	var status []Status
	if err := tx.Raw(`SELECT status FROM courier_profiles WHERE user_id = ?`, courierID).Scan(&status).Error; err != nil {
		return fmt.Errorf("courier %s status: %w", courierID, err)
	}
	switch {
	case len(status) == 0 || status[0] == Pending || status[0] == Rejected:
		return ErrNotCourier
	case status[0] == Suspended:
		return ErrSuspended
	}
	return nil
}

// Touch records that the courier took or finished an order at at (dispatch counts idle time
// from it). It never moves last_active_at backwards, so a late call with an older time does no
// harm. A courier without a profile (an order taken before vetting existed) has no idle time
// to keep, and Touch does nothing for them rather than fail the order step that called it.
func Touch(tx *gorm.DB, courierID string, at time.Time) error {
	if !validUUID(courierID) {
		return nil
	}
	err := tx.Exec(`UPDATE courier_profiles SET last_active_at = GREATEST(last_active_at, ?), updated_at = now()
		WHERE user_id = ?`, at.UTC(), courierID).Error
	if err != nil {
		return fmt.Errorf("touch courier %s: %w", courierID, err)
	}
	return nil
}

// Candidate is a courier dispatch may offer orders to.
type Candidate struct {
	UserID string
	Credit int
	// IdleSince is when the courier last took or finished an order, or came online if that
	// is later: a courier is not waiting for work while offline, so a break does not make them
	// look idle (and outbid everyone) the moment they come back.
	IdleSince time.Time
	// Load is how many orders the courier carries now (accepted or picked up).
	Load int
	// EarnedToday is the courier's income (see Earnings) since midnight in the tenant's zone.
	EarnedToday ledger.Money
}

// activeStatuses are the order statuses in which an order sits with its courier.
const activeStatuses = `('accepted', 'picked_up')`

// Candidates lists the approved, online couriers whose credit score is at least minCredit,
// with their load and today's income, in one query. It does not lock: dispatch must still pass
// each assignment through LockEligible.
func Candidates(tx *gorm.DB, minCredit int) ([]Candidate, error) {
	return CandidatesAt(tx, minCredit, time.Now())
}

// CandidatesAt is Candidates with "today" being the tenant's day at now (dispatch passes its
// own clock).
func CandidatesAt(tx *gorm.DB, minCredit int, now time.Time) ([]Candidate, error) {
	p, err := periodsAt(tx, now)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		UserID      string
		Credit      int
		IdleSince   *time.Time
		Load        int
		EarnedToday int64
	}
	// The lateral subqueries run once per candidate over indexes (orders by courier and
	// status; ledger entries by account), so the cost grows with the couriers online, not with
	// the tenant's history of orders.
	err = tx.Raw(`
SELECT p.user_id, p.credit_score AS credit,
       GREATEST(p.last_active_at, p.online_since) AS idle_since,
       l.n AS load, coalesce(e.total, 0) AS earned_today
FROM courier_profiles p
CROSS JOIN LATERAL (
    SELECT count(*) AS n FROM orders o WHERE o.courier_id = p.user_id AND o.status IN `+activeStatuses+`
) l
LEFT JOIN LATERAL (
    SELECT sum(le.amount) AS total
    FROM ledger_accounts a
    JOIN ledger_entries le ON le.account_id = a.id
    JOIN ledger_journals j ON j.id = le.journal_id
    WHERE a.kind = 'earnings' AND a.owner = p.user_id::text
      AND le.created_at >= ? AND j.kind <> 'withdrawal'
) e ON true
WHERE p.status = 'approved' AND p.online AND p.credit_score >= ?
ORDER BY p.user_id`, p.day, minCredit).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("courier candidates: %w", err)
	}
	out := make([]Candidate, len(rows))
	for i, r := range rows {
		out[i] = Candidate{UserID: r.UserID, Credit: r.Credit, Load: r.Load, EarnedToday: ledger.Money(r.EarnedToday)}
		if r.IdleSince != nil {
			out[i].IdleSince = *r.IdleSince
		}
	}
	return out, nil
}

// profileByID loads a profile without locking; ErrNotFound when there is none.
func profileByID(tx *gorm.DB, userID string) (*profileRow, error) {
	if !validUUID(userID) {
		return nil, ErrNotFound
	}
	var rows []profileRow
	if err := tx.Raw(`SELECT `+profileColumns+` FROM courier_profiles WHERE user_id = ?`, userID).Scan(&rows).Error; err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, ErrNotFound
	}
	return &rows[0], nil
}

// errNoRow is a bug guard: an UPDATE of a row this transaction holds locked changed nothing.
var errNoRow = errors.New("courier profile vanished under its lock")

// validUUID accepts only the canonical 36-character form: uuid.Parse also takes forms
// (urn:uuid:...) that PostgreSQL would refuse, failing the statement.
func validUUID(s string) bool {
	_, err := uuid.Parse(s)
	return err == nil && len(s) == 36
}
