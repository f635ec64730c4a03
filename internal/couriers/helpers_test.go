package couriers_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/authz"
	"github.com/paotui/paotui/internal/couriers"
	"github.com/paotui/paotui/internal/ledger"
	"github.com/paotui/paotui/internal/pii"
	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/store"
	"github.com/paotui/paotui/internal/store/storetest"
)

// env is one test's database and Redis database with a migrated tenant, its keys, a real
// Authorizer and the service under test.
type env struct {
	db    *store.DB
	rdb   *redis.Client
	keys  *pii.Keyring
	az    *authz.Authorizer
	svc   *couriers.Service
	tn    *tenancy.Tenant
	staff string // a staff user id for decisions
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	db, d := storetest.New(t)
	master := make([]byte, pii.MasterKeySize)
	_, _ = rand.Read(master)
	keys, err := pii.NewKeyring(db.Gorm, master)
	if err != nil {
		t.Fatal(err)
	}
	tn := &tenancy.Tenant{Slug: "campus", Name: "campus", Schema: "tenant_campus", Status: tenancy.StatusActive}
	if err := db.Gorm.Raw(`INSERT INTO public.tenants (slug, name, schema_name, status) VALUES (?, ?, ?, 'active') RETURNING id`,
		tn.Slug, tn.Name, tn.Schema).Scan(&tn.ID).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Gorm.Transaction(func(tx *gorm.DB) error { return keys.CreateKeys(tx, tn.ID) }); err != nil {
		t.Fatal(err)
	}
	if _, _, err := store.NewMigrator(d.URL, 1, nil).UpTenant(ctx, tn.Schema); err != nil {
		t.Fatal(err)
	}
	opt, err := redis.ParseURL(storetest.Redis(t))
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { _ = rdb.Close() })
	az, err := authz.New(db, rdb, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{db: db, rdb: rdb, keys: keys, az: az, svc: couriers.New(db, keys, az, rdb, nil), tn: tn}
	e.staff = e.user(t)
	e.in(t, func(tx *gorm.DB) error {
		return tx.Exec(`INSERT INTO task_types (key, name_zh, name_en, sort, pricing) VALUES ('parcel_pickup', '代取快递', 'Parcel pickup', 0, '{}')
			ON CONFLICT DO NOTHING`).Error
	})
	return e
}

// in runs fn in a tenant transaction and fails the test on error.
func (e *env) in(t testing.TB, fn func(tx *gorm.DB) error) {
	t.Helper()
	if err := e.db.InTenant(context.Background(), e.tn, fn); err != nil {
		t.Fatal(err)
	}
}

// user adds a tenant user; the phone columns only need to be unique here.
func (e *env) user(t testing.TB) string {
	t.Helper()
	id := uuid.NewString()
	phone, idx := make([]byte, 16), make([]byte, 16)
	_, _ = rand.Read(phone)
	_, _ = rand.Read(idx)
	e.in(t, func(tx *gorm.DB) error {
		return tx.Exec(`INSERT INTO users (id, phone_enc, phone_bidx) VALUES (?, ?, ?)`, id, phone, idx).Error
	})
	return id
}

var studentNos = make(chan int, 1)

func init() { studentNos <- 100000 }

// studentNo is a fresh student number.
func studentNo() string {
	n := <-studentNos
	studentNos <- n + 1
	return fmt.Sprintf("S%d", n)
}

func (e *env) apply(t testing.TB, userID string) *couriers.Profile {
	t.Helper()
	p, err := e.svc.Apply(context.Background(), e.tn, userID, couriers.ApplyRequest{RealName: "张三丰", StudentNo: studentNo()})
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	return p
}

// courier returns a new user whose profile is in status s (online when s is approved and
// online is true).
func (e *env) courier(t testing.TB, s couriers.Status, online bool) string {
	t.Helper()
	ctx := context.Background()
	u := e.user(t)
	e.apply(t, u)
	var err error
	switch s {
	case couriers.Approved:
		_, err = e.svc.Approve(ctx, e.tn, e.staff, u, "")
	case couriers.Rejected:
		_, err = e.svc.Reject(ctx, e.tn, e.staff, u, "照片不清楚")
	case couriers.Suspended:
		if _, err = e.svc.Approve(ctx, e.tn, e.staff, u, ""); err == nil {
			_, err = e.svc.Suspend(ctx, e.tn, e.staff, u, "投诉较多")
		}
	}
	if err != nil {
		t.Fatalf("make %s courier: %v", s, err)
	}
	if online {
		if _, err := e.svc.GoOnline(ctx, e.tn, u); err != nil {
			t.Fatalf("go online: %v", err)
		}
	}
	return u
}

func (e *env) setCredit(t testing.TB, userID string, score int) {
	t.Helper()
	e.in(t, func(tx *gorm.DB) error {
		return tx.Exec(`UPDATE courier_profiles SET credit_score = ? WHERE user_id = ?`, score, userID).Error
	})
}

// order is a hand-made order row; zero times stay NULL.
type order struct {
	id, courier, status            string
	total                          int64
	windowEnd, accepted, delivered time.Time
	completed                      time.Time
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// insertOrder writes o (a student is created for it) and returns its id and number.
func (e *env) insertOrder(t testing.TB, o order) (string, int64) {
	t.Helper()
	if o.id == "" {
		o.id = uuid.NewString()
	}
	if o.total == 0 {
		o.total = 1000
	}
	student := e.user(t)
	var windowStart any
	if !o.windowEnd.IsZero() {
		windowStart = o.windowEnd.Add(-2 * time.Hour)
	}
	var courier any
	if o.courier != "" {
		courier = o.courier
	}
	var number int64
	e.in(t, func(tx *gorm.DB) error {
		return tx.Raw(`INSERT INTO orders (id, student_id, courier_id, task_type, status, pickup_name, pickup_lng, pickup_lat,
			dropoff_name, dropoff_lng, dropoff_lat, form_enc, window_start, window_end, distance_m, price_lines, total,
			courier_share_bp, quote_id, paid_amount, pay_by, paid_at, accepted_at, delivered_at, completed_at)
			VALUES (?, ?, ?, 'parcel_pickup', ?, '菜鸟驿站', 116.3, 39.9, '1号楼', 116.31, 39.91, '\x00', ?, ?, 500, '[]', ?,
			8000, ?, ?, now(), now(), ?, ?, ?) RETURNING number`,
			o.id, student, courier, o.status, windowStart, nullTime(o.windowEnd), o.total, uuid.NewString(), o.total,
			nullTime(o.accepted), nullTime(o.delivered), nullTime(o.completed)).Scan(&number).Error
	})
	return o.id, number
}

// settle pays orderID's total into escrow (offline cash) and settles it, crediting courier
// earned 分 and the tenant the rest, the way orders does on completion. It returns the
// settlement journal's id.
func (e *env) settle(t testing.TB, orderID, courierID string, total, earned int64) string {
	t.Helper()
	var id string
	e.in(t, func(tx *gorm.DB) error {
		if _, err := ledger.Post(tx, ledger.Journal{Kind: ledger.Payment, Ref: "order:" + orderID, Actor: "test", Entries: []ledger.Entry{
			{Account: ledger.Clearing("offline"), Amount: -ledger.Money(total)},
			{Account: ledger.Escrow(orderID), Amount: ledger.Money(total)},
		}}); err != nil {
			return err
		}
		entries := []ledger.Entry{
			{Account: ledger.Escrow(orderID), Amount: -ledger.Money(total)},
			{Account: ledger.Earnings(courierID), Amount: ledger.Money(earned)},
		}
		if total > earned {
			entries = append(entries, ledger.Entry{Account: ledger.Revenue(), Amount: ledger.Money(total - earned)})
		}
		var err error
		id, err = ledger.Post(tx, ledger.Journal{Kind: ledger.Settlement, Ref: "order:" + orderID, IdempotencyKey: "settle:" + orderID,
			Actor: "system", Memo: "order completed", Entries: entries})
		return err
	})
	return id
}

// post writes any journal and returns its id.
func (e *env) post(t testing.TB, j ledger.Journal) string {
	t.Helper()
	var id string
	e.in(t, func(tx *gorm.DB) error {
		var err error
		id, err = ledger.Post(tx, j)
		return err
	})
	return id
}

// backdate moves a journal and its entries to at. The ledger is append-only, so the test lifts
// the append-only triggers for this one transaction (the tables' owner may; nobody else sees
// the gap) — the only way to give history a past without waiting for it.
func (e *env) backdate(t testing.TB, journalID string, at time.Time) {
	t.Helper()
	e.in(t, func(tx *gorm.DB) error {
		for _, q := range []string{
			`ALTER TABLE ledger_journals DISABLE TRIGGER ledger_journals_append_only`,
			`ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_append_only`,
		} {
			if err := tx.Exec(q).Error; err != nil {
				return err
			}
		}
		if err := tx.Exec(`UPDATE ledger_journals SET created_at = ? WHERE id = ?`, at, journalID).Error; err != nil {
			return err
		}
		res := tx.Exec(`UPDATE ledger_entries SET created_at = ? WHERE journal_id = ?`, at, journalID)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected < 2 {
			return errors.New("backdate: journal has no entries")
		}
		for _, q := range []string{
			`ALTER TABLE ledger_journals ENABLE TRIGGER ledger_journals_append_only`,
			`ALTER TABLE ledger_entries ENABLE TRIGGER ledger_entries_append_only`,
		} {
			if err := tx.Exec(q).Error; err != nil {
				return err
			}
		}
		return nil
	})
}

// audited lists "action target" of the tenant's audit entries whose action starts with
// "couriers.", oldest first.
func (e *env) audited(t testing.TB, target string) []string {
	t.Helper()
	var out []string
	e.in(t, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT action FROM audit_log WHERE action LIKE 'couriers.%' AND target = ? ORDER BY id`, "user:"+target).Scan(&out).Error
	})
	return out
}

func shanghai(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
