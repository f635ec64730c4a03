package orderchat_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/orderchat"
	"github.com/paotui/paotui/internal/pii"
	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/storage"
	"github.com/paotui/paotui/internal/store"
	"github.com/paotui/paotui/internal/store/storetest"
)

// env is one test's database with two migrated tenants, their keys, a local file store and
// the service over them. Orders are real rows; ordersTable reads their parties the way the
// orders domain will.
type env struct {
	db     *store.DB
	keys   *pii.Keyring
	files  *storage.LocalStore
	staff  *staffList
	posted *postings
	svc    *orderchat.Service
	t1, t2 *tenancy.Tenant
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db, d := storetest.New(t)
	master := make([]byte, pii.MasterKeySize)
	_, _ = rand.Read(master)
	kr, err := pii.NewKeyring(db.Gorm, master)
	if err != nil {
		t.Fatal(err)
	}
	files, err := storage.Local(filepath.Join(t.TempDir(), "files"))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{db: db, keys: kr, files: files, staff: &staffList{ids: map[string]bool{}}, posted: &postings{}}
	m := store.NewMigrator(d.URL, 4, nil)
	for i, slug := range []string{"north", "south"} {
		var id int64
		err := db.Gorm.Raw(`INSERT INTO public.tenants (slug, name, schema_name, status) VALUES (?, ?, ?, 'active') RETURNING id`,
			slug, slug, "tenant_chat_"+slug).Scan(&id).Error
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Gorm.Transaction(func(tx *gorm.DB) error { return kr.CreateKeys(tx, id) }); err != nil {
			t.Fatal(err)
		}
		if _, _, err := m.UpTenant(context.Background(), "tenant_chat_"+slug); err != nil {
			t.Fatal(err)
		}
		tn := &tenancy.Tenant{ID: id, Slug: slug, Name: slug, Schema: "tenant_chat_" + slug, Status: tenancy.StatusActive}
		if i == 0 {
			e.t1 = tn
		} else {
			e.t2 = tn
		}
		e.in(t, tn, func(tx *gorm.DB) error {
			return tx.Exec(`INSERT INTO task_types (key, name_zh, name_en, sort, pricing) VALUES ('errand', '跑腿', 'Errand', 0, '{}')`).Error
		})
	}
	e.svc = orderchat.New(db, kr, files, ordersTable{db}, e.posted, slog.New(slog.NewTextHandler(io.Discard, nil)),
		orderchat.WithAuthorizer(e.staff))
	return e
}

// in runs fn in a tenant transaction and fails the test on error.
func (e *env) in(t testing.TB, tn *tenancy.Tenant, fn func(tx *gorm.DB) error) {
	t.Helper()
	if err := e.db.InTenant(context.Background(), tn, fn); err != nil {
		t.Fatal(err)
	}
}

// user adds a tenant user and returns its id.
func (e *env) user(t testing.TB, tn *tenancy.Tenant) string {
	t.Helper()
	id := uuid.NewString()
	e.in(t, tn, func(tx *gorm.DB) error {
		return tx.Exec(`INSERT INTO users (id, phone_enc, phone_bidx) VALUES (?, '\x00', ?)`, id, []byte(id)).Error
	})
	return id
}

// order adds an order of student in status, held by courier ("" for none), and returns its id.
func (e *env) order(t testing.TB, tn *tenancy.Tenant, student, courier, status string) string {
	t.Helper()
	id := uuid.NewString()
	var courierID any
	if courier != "" {
		courierID = courier
	}
	e.in(t, tn, func(tx *gorm.DB) error {
		return tx.Exec(`INSERT INTO orders (id, student_id, courier_id, task_type, status, pickup_name, pickup_lng, pickup_lat,
			dropoff_name, dropoff_lng, dropoff_lat, form_enc, distance_m, price_lines, total, courier_share_bp, quote_id, pay_by)
			VALUES (?, ?, ?, 'errand', ?, '南门', 114.1, 30.5, '3号楼', 114.2, 30.6, '\x00', 500, '[]', 800, 8000, ?, now())`,
			id, student, courierID, status, "q-"+id).Error
	})
	return id
}

// set changes an order's status and courier, as the orders domain would.
func (e *env) set(t testing.TB, tn *tenancy.Tenant, orderID, courier, status string) {
	t.Helper()
	var courierID any
	if courier != "" {
		courierID = courier
	}
	e.in(t, tn, func(tx *gorm.DB) error {
		return tx.Exec(`UPDATE orders SET courier_id = ?, status = ? WHERE id = ?`, courierID, status, orderID).Error
	})
}

// ordersTable is the Orders the orders domain will provide, read straight from the table.
type ordersTable struct{ db *store.DB }

func (o ordersTable) Parties(ctx context.Context, t *tenancy.Tenant, orderID string) (orderchat.Parties, error) {
	var p orderchat.Parties
	err := o.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT student_id, coalesce(courier_id::text, ''), status FROM orders WHERE id = ?`, orderID).
			Row().Scan(&p.StudentID, &p.CourierID, &p.Status)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("order %s: %w", orderID, orderchat.ErrNotFound)
	}
	switch p.Status {
	case "completed", "cancelled", "expired", "refunded":
		p.Terminal = true
	}
	return p, err
}

// staffList is the Authorizer: the listed users hold StaffPermission.
type staffList struct {
	mu  sync.Mutex
	ids map[string]bool
}

func (s *staffList) add(id string) { s.mu.Lock(); s.ids[id] = true; s.mu.Unlock() }

func (s *staffList) Can(_ context.Context, _ *tenancy.Tenant, userID, perm string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return perm == orderchat.StaffPermission && s.ids[userID], nil
}

// postings records what the Notifier heard.
type postings struct {
	mu   sync.Mutex
	list []orderchat.Message
}

func (p *postings) MessagePosted(_ context.Context, _ *tenancy.Tenant, orderID string, m orderchat.Message) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if m.OrderID != orderID {
		panic("MessagePosted: order id and message disagree")
	}
	p.list = append(p.list, m)
}

func (p *postings) all() []orderchat.Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]orderchat.Message(nil), p.list...)
}
