package payments

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/ledger"
)

// The queries of this package. They take the *gorm.DB they are given (the caller's tenant
// transaction) and never open one.

var errNoTx = errors.New("payments: writes need the caller's transaction")

// inSavepoint runs fn in a savepoint of tx, the caller's transaction: an error from fn (a
// refusal or a failed statement) rolls back everything fn wrote and leaves tx usable.
func inSavepoint(tx *gorm.DB, fn func(tx *gorm.DB) error) error {
	if _, ok := tx.Statement.ConnPool.(gorm.TxCommitter); !ok {
		return errNoTx
	}
	return tx.Transaction(fn)
}

// validID refuses an id that is not a UUID before it reaches SQL, where a malformed uuid would
// be an error that aborts the caller's transaction.
func validID(what, id string) error {
	if _, err := uuid.Parse(id); err != nil {
		return fmt.Errorf("%s %q: %w", what, id, ErrNotFound)
	}
	return nil
}

// lockOrder locks the order row (a no-op when the caller holds the lock) and returns its
// student. Payments and refunds of one order queue on this lock.
func lockOrder(tx *gorm.DB, orderID string) (studentID string, err error) {
	if err := validID("order", orderID); err != nil {
		return "", err
	}
	var ids []string
	if err := tx.Raw(`SELECT student_id::text FROM orders WHERE id = ? FOR UPDATE`, orderID).Scan(&ids).Error; err != nil {
		return "", fmt.Errorf("lock order %s: %w", orderID, err)
	}
	if len(ids) == 0 {
		return "", fmt.Errorf("order %s: %w", orderID, ErrNotFound)
	}
	return ids[0], nil
}

// lockOrderOf is lockOrder for a payment by userID, who must be the order's student.
func lockOrderOf(tx *gorm.DB, orderID, userID string) error {
	student, err := lockOrder(tx, orderID)
	if err != nil {
		return err
	}
	if student != userID {
		return fmt.Errorf("order %s of user %s: %w", orderID, userID, ErrNotFound)
	}
	return nil
}

// tenantOf is the registry id of the tenant whose schema tx is scoped to.
func tenantOf(tx *gorm.DB) (int64, error) {
	var ids []int64
	if err := tx.Raw(`SELECT id FROM public.tenants WHERE schema_name = current_schema()`).Scan(&ids).Error; err != nil {
		return 0, fmt.Errorf("find the transaction's tenant: %w", err)
	}
	if len(ids) != 1 {
		return 0, errors.New("payments: the transaction is not scoped to a registered tenant")
	}
	return ids[0], nil
}

func userExists(tx *gorm.DB, userID string) error {
	if err := validID("user", userID); err != nil {
		return err
	}
	var n int64
	if err := tx.Raw(`SELECT count(*) FROM users WHERE id = ?`, userID).Scan(&n).Error; err != nil {
		return fmt.Errorf("find user %s: %w", userID, err)
	}
	if n == 0 {
		return fmt.Errorf("user %s: %w", userID, ErrNotFound)
	}
	return nil
}

// settingsKey is the tenant settings row that configures payments.
const settingsKey = "payments"

// defaultMethods are allowed when the tenant has no payments settings: Alipay and WeChat Pay
// need activating on the Stripe account first.
var defaultMethods = []string{MethodCard}

// allowedMethods reads the tenant's Stripe payment method types.
func allowedMethods(tx *gorm.DB) ([]string, error) {
	var docs []string
	if err := tx.Raw(`SELECT value::text FROM settings WHERE key = ?`, settingsKey).Scan(&docs).Error; err != nil {
		return nil, fmt.Errorf("read payments settings: %w", err)
	}
	if len(docs) == 0 {
		return defaultMethods, nil
	}
	var s struct {
		StripeMethods *[]string `json:"stripe_methods"`
	}
	if err := json.Unmarshal([]byte(docs[0]), &s); err != nil {
		return nil, fmt.Errorf("payments settings: %w", err)
	}
	if s.StripeMethods == nil {
		return defaultMethods, nil
	}
	var out []string
	for _, m := range *s.StripeMethods {
		if slices.Contains(Methods, m) {
			out = append(out, m)
		}
	}
	return out, nil
}

const paymentCols = `p.id::text, p.purpose, coalesce(p.order_id::text, ''), p.user_id::text, p.provider,
	coalesce(p.method, ''), p.amount, p.refunded, p.currency, p.status, coalesce(p.provider_ref, ''),
	coalesce(p.idempotency_key, ''), p.reason, p.created_by, p.created_at, p.succeeded_at`

// storedPayment is a payment with the idempotency key it was created under.
type storedPayment struct {
	Payment
	key string
}

func queryPayments(tx *gorm.DB, query string, args ...any) ([]storedPayment, error) {
	rows, err := tx.Raw(query, args...).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []storedPayment
	for rows.Next() {
		var p storedPayment
		var succeeded sql.NullTime
		if err := rows.Scan(&p.ID, &p.Purpose, &p.OrderID, &p.UserID, &p.Provider, &p.Method, &p.Amount,
			&p.Refunded, &p.Currency, &p.Status, &p.ProviderRef, &p.key, &p.Reason, &p.CreatedBy,
			&p.CreatedAt, &succeeded); err != nil {
			return nil, err
		}
		p.CreatedAt = p.CreatedAt.UTC()
		if succeeded.Valid {
			t := succeeded.Time.UTC()
			p.SucceededAt = &t
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

func onePayment(tx *gorm.DB, query string, args ...any) (*storedPayment, error) {
	ps, err := queryPayments(tx, query, args...)
	if err != nil || len(ps) == 0 {
		return nil, err
	}
	return &ps[0], nil
}

// paymentByKey is the payment userID created for purpose under an Idempotency-Key, or nil.
func paymentByKey(tx *gorm.DB, userID string, purpose Purpose, key string) (*storedPayment, error) {
	p, err := onePayment(tx, `SELECT `+paymentCols+` FROM payments p
		WHERE p.user_id = ? AND p.purpose = ? AND p.idempotency_key = ?`, userID, string(purpose), key)
	if err != nil {
		return nil, fmt.Errorf("find payment by idempotency key: %w", err)
	}
	return p, nil
}

// paymentByRef locks and returns the payment of a Stripe PaymentIntent, or nil.
func paymentByRef(tx *gorm.DB, ref string) (*storedPayment, error) {
	p, err := onePayment(tx, `SELECT `+paymentCols+` FROM payments p WHERE p.provider_ref = ? FOR UPDATE`, ref)
	if err != nil {
		return nil, fmt.Errorf("find payment of %s: %w", ref, err)
	}
	return p, nil
}

// orderPayments lists an order's payments, newest first; lock takes their row locks.
func orderPayments(tx *gorm.DB, orderID string, lock bool) ([]storedPayment, error) {
	q := `SELECT ` + paymentCols + ` FROM payments p WHERE p.order_id = ? ORDER BY p.created_at DESC, p.id`
	if lock {
		q += ` FOR UPDATE`
	}
	ps, err := queryPayments(tx, q, orderID)
	if err != nil {
		return nil, fmt.Errorf("payments of order %s: %w", orderID, err)
	}
	return ps, nil
}

func hasSucceeded(ps []storedPayment) bool {
	for _, p := range ps {
		if p.Status == StatusSucceeded {
			return true
		}
	}
	return false
}

// insertPayment writes p unless userID already used key for the same purpose; inserted is
// false then (a concurrent request with the key committed first).
func insertPayment(tx *gorm.DB, p *Payment, key string) (inserted bool, err error) {
	var ids []string
	err = tx.Raw(`INSERT INTO payments (id, purpose, order_id, user_id, provider, method, amount, currency,
			status, provider_ref, idempotency_key, reason, created_by, created_at, updated_at, succeeded_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT ON CONSTRAINT payments_idempotency_key DO NOTHING
		RETURNING id::text`,
		p.ID, string(p.Purpose), nullString(p.OrderID), p.UserID, string(p.Provider), nullString(p.Method),
		int64(p.Amount), p.Currency, string(p.Status), nullString(p.ProviderRef), nullString(key), p.Reason,
		p.CreatedBy, p.CreatedAt, p.CreatedAt, p.SucceededAt).Scan(&ids).Error
	if err != nil {
		return false, fmt.Errorf("insert payment: %w", err)
	}
	return len(ids) == 1, nil
}

func setProviderRef(tx *gorm.DB, paymentID, ref string) error {
	if err := tx.Exec(`UPDATE payments SET provider_ref = ?, updated_at = now() WHERE id = ?`, ref, paymentID).Error; err != nil {
		return fmt.Errorf("set provider ref of payment %s: %w", paymentID, err)
	}
	return nil
}

func setPaymentStatus(tx *gorm.DB, paymentID string, st Status, at time.Time) error {
	var succeeded *time.Time
	if st == StatusSucceeded {
		succeeded = &at
	}
	err := tx.Exec(`UPDATE payments SET status = ?, succeeded_at = ?, updated_at = now() WHERE id = ?`,
		string(st), succeeded, paymentID).Error
	if err != nil {
		return fmt.Errorf("set status of payment %s: %w", paymentID, err)
	}
	return nil
}

func addRefunded(tx *gorm.DB, paymentID string, delta ledger.Money) error {
	err := tx.Exec(`UPDATE payments SET refunded = refunded + ?, updated_at = now() WHERE id = ?`,
		int64(delta), paymentID).Error
	if err != nil {
		return fmt.Errorf("update refunded of payment %s: %w", paymentID, err)
	}
	return nil
}

const refundCols = `r.id::text, r.payment_id::text, p.order_id::text, p.provider, r.amount, r.reason,
	coalesce(r.provider_ref, ''), r.status, r.created_by, r.created_at`

func queryRefunds(tx *gorm.DB, query string, args ...any) ([]Refund, error) {
	rows, err := tx.Raw(query, args...).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Refund
	for rows.Next() {
		var r Refund
		if err := rows.Scan(&r.ID, &r.PaymentID, &r.OrderID, &r.Provider, &r.Amount, &r.Reason,
			&r.ProviderRef, &r.Status, &r.CreatedBy, &r.CreatedAt); err != nil {
			return nil, err
		}
		r.CreatedAt = r.CreatedAt.UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}

// refundsByKey lists the refunds of an order made under an Idempotency-Key.
func refundsByKey(tx *gorm.DB, orderID, key string) ([]Refund, error) {
	rs, err := queryRefunds(tx, `SELECT `+refundCols+` FROM refunds r JOIN payments p ON p.id = r.payment_id
		WHERE p.order_id = ? AND r.idempotency_key = ? ORDER BY r.created_at, r.id`, orderID, key)
	if err != nil {
		return nil, fmt.Errorf("find refunds by idempotency key: %w", err)
	}
	return rs, nil
}

// OrderRefunds lists an order's refunds, oldest first.
func orderRefunds(tx *gorm.DB, orderID string) ([]Refund, error) {
	rs, err := queryRefunds(tx, `SELECT `+refundCols+` FROM refunds r JOIN payments p ON p.id = r.payment_id
		WHERE p.order_id = ? ORDER BY r.created_at, r.id`, orderID)
	if err != nil {
		return nil, fmt.Errorf("refunds of order %s: %w", orderID, err)
	}
	return rs, nil
}

// refundByRef locks and returns the refund with a Stripe refund id, or nil.
func refundByRef(tx *gorm.DB, ref string) (*Refund, error) {
	rs, err := queryRefunds(tx, `SELECT `+refundCols+` FROM refunds r JOIN payments p ON p.id = r.payment_id
		WHERE r.provider_ref = ? FOR UPDATE OF r`, ref)
	if err != nil {
		return nil, fmt.Errorf("find refund %s: %w", ref, err)
	}
	if len(rs) == 0 {
		return nil, nil
	}
	return &rs[0], nil
}

func insertRefund(tx *gorm.DB, r *Refund, key string) error {
	err := tx.Exec(`INSERT INTO refunds (id, payment_id, amount, reason, provider_ref, status, idempotency_key,
			created_by, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.PaymentID, int64(r.Amount), r.Reason, nullString(r.ProviderRef), string(r.Status),
		nullString(key), r.CreatedBy, r.CreatedAt, r.CreatedAt).Error
	if err != nil {
		return fmt.Errorf("insert refund: %w", err)
	}
	return nil
}

func setRefund(tx *gorm.DB, refundID, ref string, st RefundStatus) error {
	err := tx.Exec(`UPDATE refunds SET provider_ref = coalesce(?, provider_ref), status = ?, updated_at = now()
		WHERE id = ?`, nullString(ref), string(st), refundID).Error
	if err != nil {
		return fmt.Errorf("update refund %s: %w", refundID, err)
	}
	return nil
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }
