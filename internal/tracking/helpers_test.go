package tracking

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/store"
	"github.com/paotui/paotui/internal/store/storetest"
)

// env is one test's tenant: a migrated schema in a database of its own, a Redis database of
// its own, a student and a task type to hang orders on, and a clock the test moves.
type env struct {
	s       *Service
	db      *store.DB
	rdb     *redis.Client
	tenant  *tenancy.Tenant
	clock   *clock
	student string
}

// Pub/sub channels are not scoped by Redis database, so each env takes a random tenant id:
// tests (and packages) running at once never hear each other's positions.
func randomTenantID(t testing.TB) int64 {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000_000))
	if err != nil {
		t.Fatal(err)
	}
	return n.Int64() + 1_000_000
}

func newEnv(t testing.TB) *env {
	t.Helper()
	ctx := context.Background()
	db, d := storetest.New(t)
	tid := randomTenantID(t)
	tn := &tenancy.Tenant{ID: tid, Slug: fmt.Sprintf("t%d", tid), Schema: tenancy.SchemaFor(tid), Status: tenancy.StatusActive}
	if _, _, err := store.NewMigrator(d.URL, 4, nil).UpTenant(ctx, tn.Schema); err != nil {
		t.Fatal(err)
	}
	opt, err := redis.ParseURL(storetest.Redis(t))
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { _ = rdb.Close() })
	c := &clock{t: time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)}
	s := New(rdb, db, Options{})
	s.now = c.Now
	// Tests move the fix clock, not Redis's; the rate limit has its own test.
	s.minInterval = time.Microsecond
	e := &env{s: s, db: db, rdb: rdb, tenant: tn, clock: c}
	e.student = e.user(t)
	e.in(t, func(tx *gorm.DB) error {
		return tx.Exec(`INSERT INTO task_types (key, name_zh, name_en, sort, pricing) VALUES ('parcel', '代取快递', 'Parcel pickup', 0, '{}')`).Error
	})
	return e
}

func (e *env) in(t testing.TB, fn func(tx *gorm.DB) error) {
	t.Helper()
	if err := e.db.InTenant(context.Background(), e.tenant, fn); err != nil {
		t.Fatal(err)
	}
}

// user adds a tenant user and returns its id.
func (e *env) user(t testing.TB) string {
	t.Helper()
	id := uuid.NewString()
	e.in(t, func(tx *gorm.DB) error {
		return tx.Exec(`INSERT INTO users (id, phone_enc, phone_bidx) VALUES (?, '\x00', decode(md5(?), 'hex'))`, id, id).Error
	})
	return id
}

// courier adds a user and puts it in the online set, as the couriers package does.
func (e *env) courier(t testing.TB) string {
	t.Helper()
	id := e.user(t)
	e.online(t, id)
	return id
}

func (e *env) online(t testing.TB, ids ...string) {
	t.Helper()
	members := make([]any, len(ids))
	for i, id := range ids {
		members[i] = id
	}
	if err := e.rdb.SAdd(context.Background(), onlineKey(e.tenant.ID), members...).Err(); err != nil {
		t.Fatal(err)
	}
}

// order adds an order in the given status, carried by courier ("" for none).
func (e *env) order(t testing.TB, courier, status string) string {
	t.Helper()
	id := uuid.NewString()
	var c any
	if courier != "" {
		c = courier
	}
	e.in(t, func(tx *gorm.DB) error {
		return tx.Exec(`INSERT INTO orders (id, student_id, courier_id, task_type, status, pickup_name, pickup_lng, pickup_lat,
			dropoff_name, dropoff_lng, dropoff_lat, form_enc, distance_m, price_lines, total, courier_share_bp, quote_id, pay_by)
			VALUES (?, ?, ?, 'parcel', ?, '驿站', 116.30, 39.99, '宿舍', 116.31, 39.98, '\x00', 1200, '[]', 500, 8000, ?, now())`,
			id, e.student, c, status, id).Error
	})
	return id
}

func (e *env) setStatus(t testing.TB, orderID, status string) {
	t.Helper()
	e.in(t, func(tx *gorm.DB) error {
		return tx.Exec(`UPDATE orders SET status = ? WHERE id = ?`, status, orderID).Error
	})
}

// trailRows counts the stored points of an order.
func (e *env) trailRows(t testing.TB, orderID string) int {
	t.Helper()
	var n int
	e.in(t, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT count(*) FROM courier_trail WHERE order_id = ?`, orderID).Scan(&n).Error
	})
	return n
}

func (e *env) allTrailRows(t testing.TB) int {
	t.Helper()
	var n int
	e.in(t, func(tx *gorm.DB) error { return tx.Raw(`SELECT count(*) FROM courier_trail`).Scan(&n).Error })
	return n
}

// buffered counts the points waiting in Redis, claimed or not.
func (e *env) buffered(t testing.TB) int64 {
	t.Helper()
	ctx := context.Background()
	a, err := e.rdb.LLen(ctx, trailKey(e.tenant.ID)).Result()
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.rdb.LLen(ctx, claimedKey(e.tenant.ID)).Result()
	if err != nil {
		t.Fatal(err)
	}
	return a + b
}

func (e *env) ping(courier string, lng, lat float64) error {
	return e.s.Ping(context.Background(), e.tenant, courier, Ping{Lng: lng, Lat: lat})
}

// pingAt sends a fix taken at the given time on the test clock.
func (e *env) pingAt(courier string, lng, lat float64, at time.Time) error {
	return e.s.Ping(context.Background(), e.tenant, courier, Ping{Lng: lng, Lat: lat, At: &at})
}

func (e *env) flush(t testing.TB) int {
	t.Helper()
	n, err := e.s.Flush(context.Background(), e.tenants())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (e *env) tenants() tenantList { return tenantList{e.tenant} }

// tenantList is the registry of a test.
type tenantList []*tenancy.Tenant

func (l tenantList) ByID(_ context.Context, id int64) (*tenancy.Tenant, error) {
	for _, t := range l {
		if t.ID == id {
			return t, nil
		}
	}
	return nil, tenancy.ErrNotFound
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

// Campus points: the library and a spot about 100 m east of it.
var (
	library = Point{Lng: 116.3100, Lat: 39.9900}
	east100 = Point{Lng: 116.3100 + 100/(111_320*0.7660444), Lat: 39.9900} // cos(40°) ≈ 0.766
)
