package tracking

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/paotui/paotui/internal/realtime"
)

// Every refusal has its own error, and a refused ping leaves no trace: no position, no
// event, no trail point.
func TestPingRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	offline := e.user(t)
	cases := []struct {
		name    string
		courier string // "" = a fresh online courier
		ping    Ping
		want    error // nil = accepted
		field   string
	}{
		{"valid", "", Ping{Lng: library.Lng, Lat: library.Lat, Accuracy: 12}, nil, ""},
		{"edges of the world", "", Ping{Lng: -180, Lat: -85.05, Accuracy: 5000}, nil, ""},
		{"equator is fine", "", Ping{Lng: 10, Lat: 0}, nil, ""},
		{"lng NaN", "", Ping{Lng: math.NaN(), Lat: 39.9}, ErrInvalidLocation, "lng"},
		{"lat +Inf", "", Ping{Lng: 116.3, Lat: math.Inf(1)}, ErrInvalidLocation, "lat"},
		{"lng beyond 180", "", Ping{Lng: 180.0001, Lat: 39.9}, ErrInvalidLocation, "lng"},
		{"lng below -180", "", Ping{Lng: -181, Lat: 39.9}, ErrInvalidLocation, "lng"},
		{"lat beyond 90", "", Ping{Lng: 116.3, Lat: 90.5}, ErrInvalidLocation, "lat"},
		{"lat below -90", "", Ping{Lng: 116.3, Lat: -91}, ErrInvalidLocation, "lat"},
		{"lat beyond the map", "", Ping{Lng: 116.3, Lat: 86}, ErrInvalidLocation, "lat"},
		{"null island", "", Ping{Lng: 0, Lat: 0}, ErrInvalidLocation, "lng"},
		{"negative accuracy", "", Ping{Lng: 116.3, Lat: 39.9, Accuracy: -1}, ErrInvalidLocation, "accuracy"},
		{"accuracy beyond 5 km", "", Ping{Lng: 116.3, Lat: 39.9, Accuracy: 5000.5}, ErrInvalidLocation, "accuracy"},
		{"accuracy NaN", "", Ping{Lng: 116.3, Lat: 39.9, Accuracy: math.NaN()}, ErrInvalidLocation, "accuracy"},
		{"offline courier", offline, Ping{Lng: library.Lng, Lat: library.Lat}, ErrOffline, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			courier := tc.courier
			if courier == "" {
				courier = e.courier(t)
			}
			before := e.buffered(t)
			err := e.s.Ping(ctx, e.tenant, courier, tc.ping)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("Ping = %v, want %v", err, tc.want)
			}
			var ie *InvalidError
			if tc.field != "" && (!errors.As(err, &ie) || ie.Field != tc.field) {
				t.Fatalf("Ping = %v, want an InvalidError on %s", err, tc.field)
			}
			_, ok, err := e.s.Position(ctx, e.tenant.ID, courier)
			if err != nil {
				t.Fatal(err)
			}
			grew := e.buffered(t) - before
			if accepted := tc.want == nil; ok != accepted || (grew == 1) != accepted {
				t.Fatalf("position known %v, trail grew by %d; accepted %v", ok, grew, accepted)
			}
		})
	}
	if err := e.s.Ping(ctx, e.tenant, "NOT-A-UUID", Ping{Lng: 116.3, Lat: 39.9}); !errors.Is(err, ErrInvalidQuery) {
		t.Fatalf("non-canonical courier id: %v", err)
	}
	if err := e.s.Ping(ctx, e.tenant, "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", Ping{Lng: 116.3, Lat: 39.9}); !errors.Is(err, ErrInvalidQuery) {
		t.Fatalf("upper-case courier id: %v", err)
	}
}

// One accepted ping per courier per MinInterval, on Redis's clock; refusals do not count, and
// the error says how long to wait.
func TestRateLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.s.minInterval = time.Second
	a, b := e.courier(t), e.courier(t)
	if err := e.ping(a, library.Lng, library.Lat); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(time.Second)
	err := e.ping(a, library.Lng, library.Lat)
	var tf *TooFrequentError
	if !errors.Is(err, ErrTooFrequent) || !errors.As(err, &tf) {
		t.Fatalf("second ping at once: %v, want ErrTooFrequent", err)
	}
	if tf.Wait <= 0 || tf.Wait > time.Second {
		t.Fatalf("wait %s, want (0, 1s]", tf.Wait)
	}
	if tf.RetryAfter() != time.Second {
		t.Fatalf("Retry-After %s, want 1s (whole seconds, rounded up)", tf.RetryAfter())
	}
	// Another courier is not limited by a's pings.
	if err := e.ping(b, library.Lng, library.Lat); err != nil {
		t.Fatalf("other courier: %v", err)
	}
	time.Sleep(tf.Wait + 50*time.Millisecond)
	if err := e.ping(a, library.Lng, library.Lat); err != nil {
		t.Fatalf("after the interval: %v", err)
	}
	if n := e.buffered(t); n != 3 {
		t.Fatalf("%d points buffered, want 3 (the refused ping left none)", n)
	}
}

func TestRetryAfterRoundsUp(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		wait, want time.Duration
	}{
		{time.Microsecond, time.Second},
		{1200 * time.Millisecond, 2 * time.Second},
		{2 * time.Second, 2 * time.Second},
	} {
		if got := (&TooFrequentError{Wait: tc.wait}).RetryAfter(); got != tc.want {
			t.Errorf("RetryAfter(%s) = %s, want %s", tc.wait, got, tc.want)
		}
	}
}

// A fix implying more than 50 m/s from the last accepted one is refused, GPS noise within the
// reported accuracies is forgiven, and a courier refused once is accepted again once the time
// since the last accepted fix makes the move plausible.
func TestSpeedCheck(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c := e.courier(t)
	t0 := e.clock.Now()
	at := func(d time.Duration) *time.Time { x := t0.Add(d); return &x }
	km := Point{Lng: library.Lng, Lat: library.Lat + 1000.0/111_195} // 1 km north
	steps := []struct {
		name string
		ping Ping
		want error
	}{
		{"first fix", Ping{Lng: library.Lng, Lat: library.Lat, At: at(0)}, nil},
		{"100 m in 10 s", Ping{Lng: east100.Lng, Lat: east100.Lat, At: at(10 * time.Second)}, nil},
		{"1 km in 2 s", Ping{Lng: km.Lng, Lat: km.Lat, At: at(12 * time.Second)}, ErrImplausible},
		{"1 km in 30 s from the last accepted fix", Ping{Lng: km.Lng, Lat: km.Lat, At: at(40 * time.Second)}, nil},
		{"same time again", Ping{Lng: km.Lng, Lat: km.Lat, At: at(40 * time.Second)}, ErrImplausible},
		{"older than the last fix", Ping{Lng: km.Lng, Lat: km.Lat, At: at(39 * time.Second)}, ErrImplausible},
		// 120 m in 2 s is 60 m/s, but the fix may be 50 m off: 70 m in 2 s is a bike.
		{"jitter within accuracy", Ping{Lng: km.Lng, Lat: km.Lat + 120.0/111_195, Accuracy: 50, At: at(42 * time.Second)}, nil},
		{"jitter beyond accuracy", Ping{Lng: km.Lng, Lat: km.Lat + 450.0/111_195, At: at(44 * time.Second)}, ErrImplausible},
	}
	var last Ping // the last accepted fix
	for _, st := range steps {
		err := e.s.Ping(ctx, e.tenant, c, st.ping)
		if !errors.Is(err, st.want) || (st.want == nil) != (err == nil) {
			t.Fatalf("%s: %v, want %v", st.name, err, st.want)
		}
		if err == nil {
			last = st.ping
		}
		f, ok, err := e.s.Position(ctx, e.tenant.ID, c)
		if err != nil || !ok {
			t.Fatalf("%s: position %v %v", st.name, ok, err)
		}
		if f.Lng != last.Lng || f.Lat != last.Lat || f.Accuracy != last.Accuracy || !f.At.Equal(*last.At) {
			t.Fatalf("%s: position %+v, want the last accepted fix %+v", st.name, f, last)
		}
	}
}

// The device's fix time is used within ±5 minutes of the server's clock, the server's
// otherwise.
func TestFixTime(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	now := e.clock.Now()
	for _, tc := range []struct {
		name   string
		at     *time.Time
		wantAt time.Time
	}{
		{"no device time", nil, now},
		{"4 minutes behind", ptr(now.Add(-4 * time.Minute)), now.Add(-4 * time.Minute)},
		{"4 minutes ahead, sub-microsecond dropped", ptr(now.Add(4*time.Minute + 1500*time.Nanosecond)), now.Add(4*time.Minute + time.Microsecond)},
		{"6 minutes ahead", ptr(now.Add(6 * time.Minute)), now},
		{"a day behind", ptr(now.Add(-24 * time.Hour)), now},
	} {
		c := e.courier(t)
		if err := e.s.Ping(ctx, e.tenant, c, Ping{Lng: library.Lng, Lat: library.Lat, At: tc.at}); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		f, ok, err := e.s.Position(ctx, e.tenant.ID, c)
		if err != nil || !ok || !f.At.Equal(tc.wantAt) {
			t.Fatalf("%s: fix at %s (%v %v), want %s", tc.name, f.At, ok, err, tc.wantAt)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// Positions, Nearby and Position read what Ping wrote; stale fixes are unknown, Nearby leaves
// out offline couriers and cleans up stale ones, Forget removes a courier.
func TestPositionsAndNearby(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	tid := e.tenant.ID
	a, b, far, quiet := e.courier(t), e.courier(t), e.courier(t), e.courier(t)
	farPoint := Point{Lng: library.Lng, Lat: library.Lat + 1000.0/111_195}
	for _, p := range []struct {
		id  string
		at  Point
		acc float64
	}{{a, library, 8}, {b, east100, 0}, {far, farPoint, 30}} {
		if err := e.s.Ping(ctx, e.tenant, p.id, Ping{Lng: p.at.Lng, Lat: p.at.Lat, Accuracy: p.acc}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := e.s.Positions(ctx, tid, []string{a, b, far, quiet, uuid.NewString()})
	if err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now()
	want := map[string]Fix{
		a:   {CourierID: a, Lng: library.Lng, Lat: library.Lat, Accuracy: 8, At: now},
		b:   {CourierID: b, Lng: east100.Lng, Lat: east100.Lat, At: now},
		far: {CourierID: far, Lng: farPoint.Lng, Lat: farPoint.Lat, Accuracy: 30, At: now},
	}
	if len(got) != len(want) {
		t.Fatalf("Positions = %+v, want %+v", got, want)
	}
	for id, w := range want {
		if g := got[id]; g.CourierID != w.CourierID || g.Lng != w.Lng || g.Lat != w.Lat || g.Accuracy != w.Accuracy || !g.At.Equal(w.At) {
			t.Fatalf("Positions[%s] = %+v, want %+v", id, g, w)
		}
	}
	if empty, err := e.s.Positions(ctx, tid, nil); err != nil || empty == nil || len(empty) != 0 {
		t.Fatalf("Positions(nil) = %v, %v; want an empty map", empty, err)
	}

	near, err := e.s.Nearby(ctx, tid, library, 150, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(near) != 2 || near[0].CourierID != a || near[1].CourierID != b {
		t.Fatalf("Nearby = %+v, want a then b", near)
	}
	if near[0].DistanceM > 1 || math.Abs(near[1].DistanceM-100) > 2 {
		t.Fatalf("distances %v and %v, want about 0 and 100 m", near[0].DistanceM, near[1].DistanceM)
	}
	if one, err := e.s.Nearby(ctx, tid, library, 5000, 1); err != nil || len(one) != 1 || one[0].CourierID != a {
		t.Fatalf("Nearby limit 1 = %+v, %v", one, err)
	}
	// Offline with a fresh fix: not offered.
	if err := e.rdb.SRem(ctx, onlineKey(tid), b).Err(); err != nil {
		t.Fatal(err)
	}
	if near, _ := e.s.Nearby(ctx, tid, library, 5000, 10); len(near) != 2 || near[0].CourierID != a || near[1].CourierID != far {
		t.Fatalf("Nearby after b went offline = %+v, want a and far", near)
	}
	for _, q := range []struct {
		name   string
		center Point
		radius float64
		limit  int
		want   error
	}{
		{"zero radius", library, 0, 10, ErrInvalidQuery},
		{"huge radius", library, 60_000, 10, ErrInvalidQuery},
		{"NaN radius", library, math.NaN(), 10, ErrInvalidQuery},
		{"zero limit", library, 100, 0, ErrInvalidQuery},
		{"null island", Point{}, 100, 10, ErrInvalidLocation},
	} {
		if _, err := e.s.Nearby(ctx, tid, q.center, q.radius, q.limit); !errors.Is(err, q.want) {
			t.Errorf("Nearby %s: %v, want %v", q.name, err, q.want)
		}
	}

	// Forget on going offline.
	if err := e.s.Forget(ctx, tid, far); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := e.s.Position(ctx, tid, far); ok {
		t.Fatal("forgotten courier still has a position")
	}
	if n, _ := e.rdb.ZCard(ctx, geoKey(tid)).Result(); n != 2 {
		t.Fatalf("GEO set holds %d couriers after Forget, want 2", n)
	}

	// Ten minutes on, a's fix is still fresh; a second later it is unknown everywhere.
	e.clock.Add(StaleAfter)
	if _, ok, _ := e.s.Position(ctx, tid, a); !ok {
		t.Fatal("a fix exactly StaleAfter old is still fresh")
	}
	e.clock.Add(time.Second)
	if _, ok, _ := e.s.Position(ctx, tid, a); ok {
		t.Fatal("stale fix returned by Position")
	}
	if got, _ := e.s.Positions(ctx, tid, []string{a, b}); len(got) != 0 {
		t.Fatalf("stale fixes returned by Positions: %+v", got)
	}
	if near, _ := e.s.Nearby(ctx, tid, library, 5000, 10); len(near) != 0 {
		t.Fatalf("stale fixes returned by Nearby: %+v", near)
	}
	if n, _ := e.rdb.ZCard(ctx, geoKey(tid)).Result(); n != 0 {
		t.Fatalf("GEO set still holds %d stale couriers after Nearby", n)
	}
	// A fresh ping brings a back.
	if err := e.ping(a, library.Lng, library.Lat); err != nil {
		t.Fatal(err)
	}
	if near, _ := e.s.Nearby(ctx, tid, library, 100, 10); len(near) != 1 || near[0].CourierID != a {
		t.Fatalf("Nearby after a fresh ping = %+v", near)
	}
}

// An accepted ping reaches subscribers of the courier's channel and of the tenant's map;
// a refused one reaches nobody.
func TestPublish(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c := e.courier(t)
	courierCh, mapCh := realtime.PositionChannel(e.tenant.ID, c), realtime.MapChannel(e.tenant.ID)
	hub := realtime.NewHub(e.rdb, nil)
	go func() { _ = hub.Run(ctx) }()
	defer hub.Close()
	sub, err := hub.Subscribe(ctx, courierCh, mapCh)
	if err != nil {
		t.Fatal(err)
	}
	at := e.clock.Now().Add(-time.Minute)
	if err := e.s.Ping(ctx, e.tenant, c, Ping{Lng: library.Lng, Lat: library.Lat, Accuracy: 7.5, At: &at}); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for range 2 {
		var ev realtime.Event
		select {
		case ev = <-sub.Events():
		case <-time.After(2 * time.Second):
			t.Fatal("no position event within 2s")
		}
		var fix Fix
		if err := json.Unmarshal(ev.Data, &fix); err != nil {
			t.Fatalf("%s: %v", ev.Data, err)
		}
		if ev.Type != PositionEvent || ev.ID != "" || fix.CourierID != c || fix.Lng != library.Lng || fix.Lat != library.Lat ||
			fix.Accuracy != 7.5 || !fix.At.Equal(at) {
			t.Fatalf("event %+v %s", ev, ev.Data)
		}
		got[ev.Channel] = true
	}
	if !got[courierCh] || !got[mapCh] {
		t.Fatalf("events on %v, want %s and %s", got, courierCh, mapCh)
	}
	// Refused: not newer than the last fix.
	if err := e.s.Ping(ctx, e.tenant, c, Ping{Lng: library.Lng, Lat: library.Lat, At: &at}); !errors.Is(err, ErrImplausible) {
		t.Fatalf("resent fix: %v", err)
	}
	select {
	case ev := <-sub.Events():
		t.Fatalf("a refused ping published %+v", ev)
	case <-time.After(300 * time.Millisecond):
	}
}

// Many couriers pinging at once: every ping lands, each courier's last fix is its last ping,
// and every point reaches the trail.
func TestConcurrentPings(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	const couriers, pings = 60, 10
	ids := make([]string, couriers)
	orders := make([]string, couriers)
	for i := range ids {
		ids[i] = e.courier(t)
		orders[i] = e.order(t, ids[i], "picked_up")
	}
	t0 := e.clock.Now()
	var wg sync.WaitGroup
	errs := make(chan error, couriers*pings)
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range pings {
				at := t0.Add(time.Duration(k) * time.Second)
				// Each courier walks north 3 m a second from its own start.
				p := Ping{Lng: library.Lng + float64(i)*0.001, Lat: library.Lat + float64(k)*3/111_195, At: &at}
				if err := e.s.Ping(ctx, e.tenant, id, p); err != nil {
					errs <- err
				}
			}
		}()
	}
	// Flush while pings arrive, as production does.
	done := make(chan struct{})
	var stored int
	var flushErr error
	go func() {
		defer close(done)
		for range 5 {
			n, err := e.s.Flush(ctx, e.tenants())
			stored += n
			flushErr = errors.Join(flushErr, err)
			time.Sleep(5 * time.Millisecond)
		}
	}()
	wg.Wait()
	<-done
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if flushErr != nil {
		t.Fatal(flushErr)
	}
	stored += e.flush(t)
	if stored != couriers*pings || e.allTrailRows(t) != couriers*pings {
		t.Fatalf("stored %d (table %d), want %d", stored, e.allTrailRows(t), couriers*pings)
	}
	for i, o := range orders {
		if n := e.trailRows(t, o); n != pings {
			t.Fatalf("order %d has %d points, want %d", i, n, pings)
		}
	}
	got, err := e.s.Positions(ctx, e.tenant.ID, ids)
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		f, ok := got[id]
		if !ok || !f.At.Equal(t0.Add((pings-1)*time.Second)) || f.Lng != library.Lng+float64(i)*0.001 {
			t.Fatalf("courier %d: %+v %v, want its last ping", i, f, ok)
		}
	}
	if n, _ := e.rdb.ZCard(ctx, geoKey(e.tenant.ID)).Result(); n != couriers {
		t.Fatalf("GEO set holds %d couriers, want %d", n, couriers)
	}
}
