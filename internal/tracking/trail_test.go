package tracking

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// walk sends n fixes one second apart on the test clock, each 2 m north of the last.
func (e *env) walk(t testing.TB, courier string, n int) {
	t.Helper()
	for range n {
		at := e.clock.Add(time.Second)
		f, ok, _ := e.s.Position(context.Background(), e.tenant.ID, courier)
		lat := library.Lat
		if ok {
			lat = f.Lat + 2.0/111_195
		}
		if err := e.s.Ping(context.Background(), e.tenant, courier, Ping{Lng: library.Lng, Lat: lat, Accuracy: 9, At: &at}); err != nil {
			t.Fatal(err)
		}
	}
}

// Points are stored only against the courier's orders that are accepted or picked up when
// the batch is written, once per such order, with the fix's own time, place and accuracy.
func TestFlushStoresActiveOrdersOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	accepted, pickedUp, finished, idle, busy := e.courier(t), e.courier(t), e.courier(t), e.courier(t), e.courier(t)
	oAccepted := e.order(t, accepted, "accepted")
	oPickedUp := e.order(t, pickedUp, "picked_up")
	oDelivered := e.order(t, finished, "delivered")
	oCompleted := e.order(t, finished, "completed")
	oBusy1, oBusy2 := e.order(t, busy, "accepted"), e.order(t, busy, "picked_up")
	oWaiting := e.order(t, "", "awaiting_courier")
	for _, c := range []string{accepted, pickedUp, finished, idle, busy} {
		e.walk(t, c, 3)
	}
	if n := e.flush(t); n != 3+3+3+3 {
		t.Fatalf("stored %d rows, want 12", n)
	}
	for _, c := range []struct {
		order string
		want  int
	}{{oAccepted, 3}, {oPickedUp, 3}, {oDelivered, 0}, {oCompleted, 0}, {oBusy1, 3}, {oBusy2, 3}, {oWaiting, 0}} {
		if got := e.trailRows(t, c.order); got != c.want {
			t.Errorf("order %s: %d points, want %d", c.order, got, c.want)
		}
	}
	if e.buffered(t) != 0 {
		t.Fatalf("%d points still buffered", e.buffered(t))
	}
	if ok, _ := e.rdb.SIsMember(ctx, pendingKey, e.tenant.ID).Result(); ok {
		t.Fatal("tenant still marked pending with an empty buffer")
	}

	// The stored point is the fix.
	last, _, _ := e.s.Position(ctx, e.tenant.ID, accepted)
	trail, err := e.s.Trail(ctx, e.tenant, oAccepted)
	if err != nil {
		t.Fatal(err)
	}
	if len(trail) != 3 {
		t.Fatalf("trail %+v", trail)
	}
	if p := trail[2]; p.CourierID != accepted || !p.At.Equal(last.At) || p.Lng != last.Lng || p.Lat != last.Lat || p.Accuracy != 9 {
		t.Fatalf("last trail point %+v, want %+v", p, last)
	}
	for i := 1; i < len(trail); i++ {
		if !trail[i].At.After(trail[i-1].At) {
			t.Fatalf("trail out of order: %+v", trail)
		}
	}

	// Delivered: later points of that courier are no longer stored against it.
	e.setStatus(t, oAccepted, "delivered")
	e.walk(t, accepted, 2)
	if n := e.flush(t); n != 0 {
		t.Fatalf("stored %d rows for a delivered order", n)
	}
	if got := e.trailRows(t, oAccepted); got != 3 {
		t.Fatalf("delivered order has %d points, want 3", got)
	}
	if n := e.flush(t); n != 0 {
		t.Fatalf("an empty flush stored %d", n)
	}
}

// With trails off the tenant keeps none: buffered points are dropped, not stored later.
func TestFlushWithTrailsOff(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.courier(t)
	o := e.order(t, c, "accepted")
	setTrails := func(on bool) {
		e.in(t, func(tx *gorm.DB) error {
			return tx.Exec(`INSERT INTO settings (key, value) VALUES ('tracking', jsonb_build_object('trails', ?::boolean))
				ON CONFLICT (key) DO UPDATE SET value = excluded.value`, on).Error
		})
	}
	setTrails(false)
	e.walk(t, c, 4)
	if n := e.flush(t); n != 0 {
		t.Fatalf("stored %d rows with trails off", n)
	}
	if e.buffered(t) != 0 || e.trailRows(t, o) != 0 {
		t.Fatalf("buffered %d, stored %d; want both 0", e.buffered(t), e.trailRows(t, o))
	}
	setTrails(true)
	if n := e.flush(t); n != 0 {
		t.Fatalf("points buffered while trails were off were stored later (%d)", n)
	}
	e.walk(t, c, 2)
	if n := e.flush(t); n != 2 {
		t.Fatalf("stored %d rows after turning trails back on, want 2", n)
	}
}

// A failed write loses nothing: the batch stays claimed and is written by the next flush,
// ahead of the points that arrived meanwhile.
func TestFlushKeepsBatchWhenWriteFails(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.courier(t)
	o := e.order(t, c, "picked_up")
	e.walk(t, c, 3)
	e.in(t, func(tx *gorm.DB) error {
		return tx.Exec(`ALTER TABLE courier_trail RENAME TO courier_trail_away`).Error
	})
	n, err := e.s.Flush(context.Background(), e.tenants())
	if err == nil || n != 0 {
		t.Fatalf("Flush with the table gone = %d, %v; want an error", n, err)
	}
	if got := e.buffered(t); got != 3 {
		t.Fatalf("%d points buffered after the failed write, want 3", got)
	}
	if _, err := e.s.Flush(context.Background(), e.tenants()); err == nil {
		t.Fatal("second Flush with the table gone succeeded")
	}
	e.walk(t, c, 2)
	if got := e.buffered(t); got != 5 {
		t.Fatalf("%d points buffered, want 5", got)
	}
	e.in(t, func(tx *gorm.DB) error {
		return tx.Exec(`ALTER TABLE courier_trail_away RENAME TO courier_trail`).Error
	})
	if n := e.flush(t); n != 5 {
		t.Fatalf("stored %d once the table was back, want 5", n)
	}
	if e.trailRows(t, o) != 5 || e.buffered(t) != 0 {
		t.Fatalf("stored %d, buffered %d; want 5 and 0", e.trailRows(t, o), e.buffered(t))
	}
}

// A flusher that dies holding a batch: others leave the tenant alone while its lease lasts,
// then write the batch. One that died after its INSERT committed but before acknowledging it
// gets its batch written again, which adds nothing.
func TestFlushRecoversAbandonedBatches(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	tid := e.tenant.ID
	c := e.courier(t)
	o := e.order(t, c, "accepted")
	keys := []string{trailKey(tid), claimedKey(tid), leaseKey(tid), pendingKey}
	claim := func() []string {
		items, err := claimScript.Run(ctx, e.rdb, keys, 100, "dead-flusher", time.Minute.Milliseconds(), tid).StringSlice()
		if err != nil {
			t.Fatal(err)
		}
		return items
	}
	expireLease := func() { // what the lease's TTL does, without waiting for it
		if err := e.rdb.Del(ctx, leaseKey(tid)).Err(); err != nil {
			t.Fatal(err)
		}
	}

	// Died before writing.
	e.walk(t, c, 3)
	if items := claim(); len(items) != 3 {
		t.Fatalf("claimed %d", len(items))
	}
	if n := e.flush(t); n != 0 {
		t.Fatalf("wrote %d rows of a batch another flusher holds", n)
	}
	expireLease()
	if n := e.flush(t); n != 3 || e.trailRows(t, o) != 3 {
		t.Fatalf("abandoned batch: stored %d (table %d), want 3", n, e.trailRows(t, o))
	}

	// Died after its INSERT committed.
	e.walk(t, c, 2)
	items := claim()
	if n, err := e.s.write(ctx, e.tenant, e.s.parseBatch(tid, items)); err != nil || n != 2 {
		t.Fatalf("write = %d, %v", n, err)
	}
	expireLease()
	if n := e.flush(t); n != 0 {
		t.Fatalf("a batch written twice added %d rows", n)
	}
	if e.trailRows(t, o) != 5 || e.buffered(t) != 0 {
		t.Fatalf("stored %d, buffered %d; want 5 and 0", e.trailRows(t, o), e.buffered(t))
	}
}

// Batches are bounded, and so is the work one Flush does for one tenant.
func TestFlushBatching(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.s.batchSize, e.s.batchesPerRun = 4, 2
	c := e.courier(t)
	e.order(t, c, "accepted")
	e.walk(t, c, 10)
	if n := e.flush(t); n != 8 {
		t.Fatalf("first Flush stored %d, want 2 batches of 4", n)
	}
	if n := e.flush(t); n != 2 {
		t.Fatalf("second Flush stored %d, want the 2 left", n)
	}
}

// The buffer keeps the newest points when the flusher falls behind.
func TestBufferCap(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.s.bufferCap = 5
	c := e.courier(t)
	o := e.order(t, c, "accepted")
	e.walk(t, c, 8)
	if got := e.buffered(t); got != 5 {
		t.Fatalf("buffered %d, want the cap 5", got)
	}
	last, _, _ := e.s.Position(context.Background(), e.tenant.ID, c)
	e.flush(t)
	trail, err := e.s.Trail(context.Background(), e.tenant, o)
	if err != nil || len(trail) != 5 || !trail[4].At.Equal(last.At) {
		t.Fatalf("trail %+v, %v; want the newest 5 points", trail, err)
	}
}

// Buffers of a tenant that no longer exists are dropped, and a failing tenant does not stop
// the others.
func TestFlushTenantGone(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c := e.courier(t)
	e.order(t, c, "accepted")
	e.walk(t, c, 2)
	gone := e.tenant.ID + 1
	if err := e.rdb.RPush(ctx, trailKey(gone), uuid.NewString()+",1741082400000000,116.3,39.9,0").Err(); err != nil {
		t.Fatal(err)
	}
	e.rdb.SAdd(ctx, pendingKey, gone, "garbage")
	if n := e.flush(t); n != 2 {
		t.Fatalf("stored %d, want 2", n)
	}
	if left, _ := e.rdb.SMembers(ctx, pendingKey).Result(); len(left) != 0 {
		t.Fatalf("pending tenants left: %v", left)
	}
	if n, _ := e.rdb.Exists(ctx, trailKey(gone)).Result(); n != 0 {
		t.Fatal("the buffer of a deleted tenant was kept")
	}
}

func TestTrailPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c := e.courier(t)
	o := e.order(t, c, "accepted")
	empty := e.order(t, "", "awaiting_courier")
	e.walk(t, c, 5)
	e.flush(t)
	var all []TrailPoint
	var after *time.Time
	for pages := 0; ; pages++ {
		page, more, err := e.s.TrailPage(ctx, e.tenant, o, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if !more {
			if pages != 2 || len(page) != 1 {
				t.Fatalf("last page %d has %d points", pages, len(page))
			}
			break
		}
		after = &page[len(page)-1].At
	}
	whole, err := e.s.Trail(ctx, e.tenant, o)
	if err != nil || len(all) != 5 || len(whole) != 5 {
		t.Fatalf("paged %d, whole %d (%v); want 5", len(all), len(whole), err)
	}
	for i := range whole {
		if whole[i] != all[i] {
			t.Fatalf("page point %d %+v != %+v", i, all[i], whole[i])
		}
	}
	if got, err := e.s.Trail(ctx, e.tenant, empty); err != nil || got == nil || len(got) != 0 {
		t.Fatalf("trail of an order without points = %v, %v; want []", got, err)
	}
	for _, id := range []string{uuid.NewString(), "not-a-uuid"} {
		if _, err := e.s.Trail(ctx, e.tenant, id); !errors.Is(err, ErrOrderNotFound) {
			t.Fatalf("Trail(%s) = %v, want ErrOrderNotFound", id, err)
		}
	}
	if _, _, err := e.s.TrailPage(ctx, e.tenant, o, nil, MaxTrailPage+1); !errors.Is(err, ErrInvalidQuery) {
		t.Fatalf("oversized page: %v", err)
	}
}
