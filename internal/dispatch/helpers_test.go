package dispatch_test

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"math"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/dispatch"
	"github.com/paotui/paotui/internal/dispatch/solver"
	"github.com/paotui/paotui/internal/jobs"
	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/settings"
	"github.com/paotui/paotui/internal/store"
	"github.com/paotui/paotui/internal/store/storetest"
)

// campus is a point on a campus; points north of it are whole metres away.
var campus = solver.Point{Lng: 116.3105, Lat: 39.9925}

func north(m float64) solver.Point {
	return solver.Point{Lng: campus.Lng, Lat: campus.Lat + m/6_371_008.8*180/math.Pi}
}

// errTaken is what the test's Orders.Assign returns for an order that is not waiting, as the
// orders domain returns its own error.
var errTaken = errors.New("order already taken")

// fakeOrders is the orders side as the contract describes it, over the real orders table.
// It does not leave out orders with pending offers: dispatch must.
type fakeOrders struct {
	mu     sync.Mutex
	refuse map[string]error // courier id -> the gate's refusal
}

func (f *fakeOrders) Waiting(tx *gorm.DB, now time.Time, mode string, grabWindow time.Duration) ([]dispatch.WaitingOrder, error) {
	var rows []struct {
		ID                   string
		PickupLng, PickupLat float64
		Reward               int64
		PaidAt               time.Time
	}
	q := tx.Table("orders").Select("id, pickup_lng, pickup_lat, (total - tip) * courier_share_bp / 10000 + tip AS reward, paid_at").
		Where("status = 'awaiting_courier'")
	if mode == dispatch.ModeHybrid {
		q = q.Where("paid_at <= ?", now.Add(-grabWindow))
	}
	if err := q.Order("paid_at, id").Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]dispatch.WaitingOrder, len(rows))
	for i, r := range rows {
		out[i] = dispatch.WaitingOrder{ID: r.ID, Pickup: solver.Point{Lng: r.PickupLng, Lat: r.PickupLat}, Reward: r.Reward, PaidAt: r.PaidAt}
	}
	return out, nil
}

func (f *fakeOrders) Assign(tx *gorm.DB, _ *tenancy.Tenant, orderID, courierID, via, _ string) error {
	f.mu.Lock()
	refusal := f.refuse[courierID]
	f.mu.Unlock()
	if refusal != nil {
		return refusal
	}
	if via != "offer" {
		return errors.New("assign via " + via)
	}
	res := tx.Exec(`UPDATE orders SET status = 'accepted', courier_id = ?, accepted_at = now()
		WHERE id = ? AND status = 'awaiting_courier'`, courierID, orderID)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return errTaken
	}
	return nil
}

func (f *fakeOrders) setRefusal(courierID string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refuse == nil {
		f.refuse = map[string]error{}
	}
	f.refuse[courierID] = err
}

// fakeCouriers returns the couriers a test put online, with their load counted from the
// orders they carry.
type fakeCouriers struct {
	mu   sync.Mutex
	list []solver.Courier
}

func (f *fakeCouriers) Candidates(_ context.Context, tx *gorm.DB, _ *tenancy.Tenant, _ time.Time) ([]solver.Courier, error) {
	f.mu.Lock()
	list := append([]solver.Courier(nil), f.list...)
	f.mu.Unlock()
	var loads []struct {
		CourierID string
		N         int
	}
	if err := tx.Raw(`SELECT courier_id, count(*) AS n FROM orders WHERE status IN ('accepted', 'picked_up')
		AND courier_id IS NOT NULL GROUP BY courier_id`).Scan(&loads).Error; err != nil {
		return nil, err
	}
	for i := range list {
		for _, l := range loads {
			if l.CourierID == list[i].ID {
				list[i].Load = l.N
			}
		}
	}
	return list, nil
}

func (f *fakeCouriers) add(c solver.Courier) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.list = append(f.list, c)
}

// event is one published live event.
type event struct {
	Channel, Type string
	Data          any
}

type fakePub struct {
	mu     sync.Mutex
	events []event
}

func (p *fakePub) Publish(_ context.Context, channel, typ string, data any) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events = append(p.events, event{channel, typ, data})
	return "1-0", nil
}

// take returns the events published since the last take.
func (p *fakePub) take() []event {
	p.mu.Lock()
	defer p.mu.Unlock()
	e := p.events
	p.events = nil
	return e
}

// clock is the service's clock, moved by tests. It starts at whole microseconds, PostgreSQL's
// precision, so times read back compare equal.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is one test's database with a migrated tenant and a dispatch service over fakes.
type env struct {
	db       *store.DB
	tn       *tenancy.Tenant
	orders   *fakeOrders
	couriers *fakeCouriers
	pub      *fakePub
	clock    *clock
	svc      *dispatch.Service
	student  string
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
	e := &env{db: db, tn: tn, orders: &fakeOrders{}, couriers: &fakeCouriers{}, pub: &fakePub{},
		clock: &clock{t: time.Now().UTC().Truncate(time.Microsecond)}}
	e.svc = dispatch.New(db, e.orders, e.couriers, jobs.NewOutbox(), e.pub, testLog())
	dispatch.SetClock(e.svc, e.clock.now)
	e.student = e.user(t)
	e.must(t, func(tx *gorm.DB) error {
		return tx.Exec(`INSERT INTO task_types (key, name_zh, name_en, sort, pricing) VALUES ('errand', '跑腿', 'Errand', 0, '{}')`).Error
	})
	return e
}

func testLog() *slog.Logger {
	if os.Getenv("PAOTUI_TEST_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func (e *env) must(t testing.TB, fn func(tx *gorm.DB) error) {
	t.Helper()
	if err := e.db.InTenant(context.Background(), e.tn, fn); err != nil {
		t.Fatal(err)
	}
}

// setMode saves the tenant's dispatch mode and windows through the settings package.
func (e *env) setMode(t testing.TB, mode, grabWindow, offerTimeout string) {
	t.Helper()
	e.must(t, func(tx *gorm.DB) error {
		b, err := settings.Load(tx)
		if err != nil {
			return err
		}
		b.DispatchMode, b.GrabWindow, b.OfferTimeout = mode, grabWindow, offerTimeout
		_, err = settings.Save(tx, b)
		return err
	})
}

func (e *env) user(t testing.TB) string {
	t.Helper()
	id := uuid.NewString()
	bidx := make([]byte, 16)
	_, _ = rand.Read(bidx)
	e.must(t, func(tx *gorm.DB) error {
		return tx.Exec(`INSERT INTO users (id, phone_enc, phone_bidx) VALUES (?, ?, ?)`, id, []byte("enc"), bidx).Error
	})
	return id
}

// courier puts a new courier online meters north of campus with room for maxLoad orders.
func (e *env) courier(t testing.TB, meters float64, maxLoad int) string {
	t.Helper()
	id := e.user(t)
	e.couriers.add(solver.Courier{ID: id, At: north(meters), MaxLoad: maxLoad, Credit: 100})
	return id
}

// order inserts an order waiting for a courier, its pickup meters north of campus, paid
// paidAgo before the clock's now. Its courier's share is ¥8.00.
func (e *env) order(t testing.TB, meters float64, paidAgo time.Duration) string {
	t.Helper()
	id := uuid.NewString()
	p := north(meters)
	e.must(t, func(tx *gorm.DB) error {
		return tx.Exec(`INSERT INTO orders (id, student_id, task_type, status, pickup_name, pickup_lng, pickup_lat,
				dropoff_name, dropoff_lng, dropoff_lat, form_enc, distance_m, price_lines, total, courier_share_bp,
				quote_id, pay_by, paid_amount, paid_at)
			VALUES (?, ?, 'errand', 'awaiting_courier', '南门快递站', ?, ?, '3号宿舍楼', ?, ?, ?, 800, '[]', 1000, 8000, ?,
				?, 1000, ?)`,
			id, e.student, p.Lng, p.Lat, campus.Lng, campus.Lat, []byte("form"), "q_"+id,
			e.clock.now().Add(15*time.Minute), e.clock.now().Add(-paidAgo)).Error
	})
	return id
}

// setOrderStatus moves an order the way another domain would (cancel, grab).
func (e *env) setOrderStatus(t testing.TB, orderID, status string) {
	t.Helper()
	e.must(t, func(tx *gorm.DB) error {
		return tx.Exec(`UPDATE orders SET status = ? WHERE id = ?`, status, orderID).Error
	})
}

// offerRow is a dispatch_offers row as tests read it.
type offerRow struct {
	ID, OrderID, CourierID, Status, DeclineReason string
	ExpiresAt                                     time.Time
	DecidedAt                                     *time.Time
}

// offers lists the order's offers, oldest first.
func (e *env) offers(t testing.TB, orderID string) []offerRow {
	t.Helper()
	var rows []offerRow
	e.must(t, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT id, order_id, courier_id, status, decline_reason, expires_at, decided_at
			FROM dispatch_offers WHERE order_id = ? ORDER BY created_at, id`, orderID).Scan(&rows).Error
	})
	return rows
}

func (e *env) count(t testing.TB, query string, args ...any) int64 {
	t.Helper()
	var n int64
	e.must(t, func(tx *gorm.DB) error { return tx.Raw(query, args...).Scan(&n).Error })
	return n
}

// run runs a batch and fails the test on error.
func (e *env) run(t testing.TB) dispatch.BatchResult {
	t.Helper()
	res, err := e.svc.RunBatch(context.Background(), e.tn)
	if err != nil {
		t.Fatalf("batch: %v", err)
	}
	return res
}

// offerOf returns the only offer the batch made for orderID.
func offerOf(t testing.TB, res dispatch.BatchResult, orderID string) dispatch.BatchOffer {
	t.Helper()
	var found []dispatch.BatchOffer
	for _, o := range res.Offers {
		if o.OrderID == orderID {
			found = append(found, o)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d offers of order %s in %+v", len(found), orderID, res.Offers)
	}
	return found[0]
}
