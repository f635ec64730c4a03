package payments_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/jobs"
	"github.com/paotui/paotui/internal/ledger"
	"github.com/paotui/paotui/internal/ledger/ledgertest"
	"github.com/paotui/paotui/internal/payments"
	"github.com/paotui/paotui/internal/payments/stripemock"
	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/store"
	"github.com/paotui/paotui/internal/store/storetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	stopStripeMock()
	os.Exit(code)
}

// errRollback ends a transaction a test wants undone.
var errRollback = errors.New("roll back")

// env is one test's database with one migrated tenant and a payments service over a fake
// Stripe.
type env struct {
	db     *store.DB
	dbURL  string
	tenant *tenancy.Tenant
	fake   *fakeStripe
	svc    *payments.Service
}

func setup(t *testing.T) *env {
	t.Helper()
	db, d := storetest.New(t)
	tn := &tenancy.Tenant{Slug: "campus", Name: "Campus", Schema: "tenant_campus", Status: tenancy.StatusActive}
	if err := db.Gorm.Create(tn).Error; err != nil {
		t.Fatal(err)
	}
	if _, _, err := store.NewMigrator(d.URL, 1, nil).UpTenant(context.Background(), tn.Schema); err != nil {
		t.Fatal(err)
	}
	e := &env{db: db, dbURL: d.URL, tenant: tn, fake: newFakeStripe()}
	e.svc = payments.New(db, e.fake, jobs.NewOutbox(), testLog())
	// Registered after storetest's cleanups, so it runs before the database is dropped.
	t.Cleanup(func() {
		if !t.Failed() {
			ledgertest.RequireClean(t, db, tn)
		}
	})
	return e
}

func testLog() *slog.Logger {
	if os.Getenv("PAOTUI_TEST_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// in runs fn in the tenant's transaction.
func (e *env) in(fn func(tx *gorm.DB) error) error {
	return e.db.InTenant(context.Background(), e.tenant, fn)
}

func (e *env) must(t *testing.T, fn func(tx *gorm.DB) error) {
	t.Helper()
	if err := e.in(fn); err != nil {
		t.Fatal(err)
	}
}

// user inserts a user and returns its id.
func (e *env) user(t *testing.T) string {
	t.Helper()
	id := uuid.NewString()
	bidx := make([]byte, 16)
	_, _ = rand.Read(bidx)
	e.must(t, func(tx *gorm.DB) error {
		return tx.Exec(`INSERT INTO users (id, phone_enc, phone_bidx) VALUES (?, ?, ?)`, id, []byte("enc"), bidx).Error
	})
	return id
}

// order inserts an awaiting_payment order of student for total and returns its id.
func (e *env) order(t *testing.T, student string, total ledger.Money) string {
	t.Helper()
	id := uuid.NewString()
	e.must(t, func(tx *gorm.DB) error {
		if err := tx.Exec(`INSERT INTO task_types (key, name_zh, name_en, sort, pricing)
			VALUES ('errand', '跑腿', 'Errand', 0, '{}') ON CONFLICT DO NOTHING`).Error; err != nil {
			return err
		}
		return tx.Exec(`INSERT INTO orders (id, student_id, task_type, status, pickup_name, pickup_lng, pickup_lat,
				dropoff_name, dropoff_lng, dropoff_lat, form_enc, distance_m, price_lines, total, courier_share_bp,
				quote_id, pay_by)
			VALUES (?, ?, 'errand', 'awaiting_payment', 'Gate', 116.3, 39.9, 'Dorm 3', 116.31, 39.91, ?, 800,
				'[]', ?, 8000, ?, now() + interval '15 minutes')`,
			id, student, []byte("form"), int64(total), "q_"+id).Error
	})
	return id
}

// fund puts amount into user's wallet through a staff credit.
func (e *env) fund(t *testing.T, user string, amount ledger.Money) {
	t.Helper()
	e.must(t, func(tx *gorm.DB) error {
		_, err := e.svc.TopupByStaff(tx, user, amount, "user:staff", "test funds")
		return err
	})
}

func (e *env) balance(t *testing.T, a ledger.AccountRef) ledger.Money {
	t.Helper()
	var b ledger.Money
	e.must(t, func(tx *gorm.DB) error {
		var err error
		b, err = ledger.Balance(tx, a)
		return err
	})
	return b
}

// count runs a count query in the tenant's schema.
func (e *env) count(t *testing.T, query string, args ...any) int64 {
	t.Helper()
	var n int64
	e.must(t, func(tx *gorm.DB) error { return tx.Raw(query, args...).Scan(&n).Error })
	return n
}

// countPublic runs a count query on the control plane.
func (e *env) countPublic(t *testing.T, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := e.db.Gorm.Raw(query, args...).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// books sums up the tenant's payments, refunds and ledger, to show what a step changed.
func (e *env) books(t *testing.T) string {
	t.Helper()
	var s string
	e.must(t, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT concat_ws(' ',
			(SELECT string_agg(status || '/' || refunded, ',' ORDER BY id) FROM payments),
			(SELECT string_agg(status || '/' || coalesce(provider_ref, ''), ',' ORDER BY id) FROM refunds),
			(SELECT count(*) FROM ledger_journals),
			(SELECT string_agg(kind || ':' || owner || '=' || balance, ',' ORDER BY kind, owner) FROM ledger_accounts))`).Scan(&s).Error
	})
	return s
}

// snapshot is books plus the control-plane rows payments writes (outbox, stripe_events), to
// show that a refusal wrote nothing at all.
func (e *env) snapshot(t *testing.T) string {
	t.Helper()
	return e.books(t) + " " + fmt.Sprint(e.countPublic(t, `SELECT count(*) FROM public.outbox`), " ",
		e.countPublic(t, `SELECT count(*) FROM public.stripe_events`))
}

// fakeStripe keeps intents and refunds in memory, with Stripe's idempotency-key behaviour.
type fakeStripe struct {
	mu           sync.Mutex
	n            int
	intents      map[string]payments.Intent
	refunds      map[string]payments.StripeRefund
	keys         map[string]string // idempotency key -> object id
	refundStatus string            // status of new refunds; "" is succeeded
	fail         error             // returned by every call while set
	creates      int
}

func newFakeStripe() *fakeStripe {
	return &fakeStripe{intents: map[string]payments.Intent{}, refunds: map[string]payments.StripeRefund{}, keys: map[string]string{}}
}

func (f *fakeStripe) CreateIntent(_ context.Context, p payments.IntentParams) (payments.Intent, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return payments.Intent{}, f.fail
	}
	if id, ok := f.keys[p.IdempotencyKey]; ok && p.IdempotencyKey != "" {
		return f.intents[id], nil
	}
	f.n++
	f.creates++
	id := fmt.Sprintf("pi_fake_%d", f.n)
	in := payments.Intent{ID: id, Status: "requires_payment_method", Amount: p.Amount, Currency: p.Currency,
		ClientSecret: id + "_secret_" + fmt.Sprint(f.n), Metadata: p.Metadata}
	f.intents[id] = in
	f.keys[p.IdempotencyKey] = id
	return in, nil
}

func (f *fakeStripe) GetIntent(_ context.Context, id string) (payments.Intent, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return payments.Intent{}, f.fail
	}
	in, ok := f.intents[id]
	if !ok {
		return payments.Intent{}, fmt.Errorf("no such payment intent %s", id)
	}
	return in, nil
}

func (f *fakeStripe) Refund(_ context.Context, p payments.RefundParams) (payments.StripeRefund, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return payments.StripeRefund{}, f.fail
	}
	if id, ok := f.keys[p.IdempotencyKey]; ok && p.IdempotencyKey != "" {
		return f.refunds[id], nil
	}
	if _, ok := f.intents[p.IntentID]; !ok {
		return payments.StripeRefund{}, fmt.Errorf("no such payment intent %s", p.IntentID)
	}
	f.n++
	st := f.refundStatus
	if st == "" {
		st = "succeeded"
	}
	r := payments.StripeRefund{ID: fmt.Sprintf("re_fake_%d", f.n), IntentID: p.IntentID, Status: st, Amount: p.Amount, Metadata: p.Metadata}
	f.refunds[r.ID] = r
	f.keys[p.IdempotencyKey] = r.ID
	return r, nil
}

func (f *fakeStripe) GetRefund(_ context.Context, id string) (payments.StripeRefund, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.refunds[id]
	if !ok {
		return payments.StripeRefund{}, fmt.Errorf("no such refund %s", id)
	}
	return r, nil
}

// setIntent changes what Stripe says about an intent, as the student's app and Stripe would.
func (f *fakeStripe) setIntent(id, status string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	in := f.intents[id]
	in.Status = status
	f.intents[id] = in
}

func (f *fakeStripe) setRefund(id, status string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.refunds[id]
	r.Status = status
	f.refunds[id] = r
}

func stripeMockURL(t *testing.T) string { return stripemock.URL(t) }

func stopStripeMock() { stripemock.Stop() }
