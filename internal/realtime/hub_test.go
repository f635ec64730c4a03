package realtime_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/paotui/paotui/internal/realtime"
)

const wait = 5 * time.Second

// Two hubs on one Redis stand for two replicas: whichever serves the subscriber, it gets what
// any replica publishes.
func TestTwoReplicas(t *testing.T) {
	t.Parallel()
	opt := redisOptions(t)
	a := startHub(t, newClient(t, opt))
	b := startHub(t, newClient(t, opt))
	pub := realtime.NewPublisher(newClient(t, opt))
	ch := realtime.OrderChannel(tenantID(), "o-1")

	sa := subscribe(t, a, ch)
	sb := subscribe(t, b, ch)
	id := publish(t, pub, ch, "status", map[string]string{"status": "accepted"})
	for name, s := range map[string]*realtime.Subscription{"a": sa, "b": sb} {
		ev := next(t, s.Events(), wait)
		if ev.ID != id || ev.Type != "status" || string(ev.Data) != `{"status":"accepted"}` || ev.Channel != ch || ev.Kind != realtime.KindMessage {
			t.Errorf("hub %s got %+v; want id %s", name, ev, id)
		}
	}

	t.Run("ephemeral events have no id", func(t *testing.T) {
		if err := pub.PublishEphemeral(context.Background(), ch, "pos", []float64{120.1, 30.2}); err != nil {
			t.Fatal(err)
		}
		for _, s := range []*realtime.Subscription{sa, sb} {
			ev := next(t, s.Events(), wait)
			if ev.ID != "" || ev.Type != "pos" || string(ev.Data) != "[120.1,30.2]" {
				t.Errorf("got %+v", ev)
			}
		}
	})
	t.Run("ephemeral events published from another script", func(t *testing.T) {
		msg, err := realtime.EphemeralMessage("position", map[string]float64{"lng": 120.1})
		if err != nil {
			t.Fatal(err)
		}
		c := newClient(t, opt)
		if err := c.Publish(context.Background(), realtime.NamespaceOf(c).Wire(ch), msg).Err(); err != nil {
			t.Fatal(err)
		}
		ev := next(t, sa.Events(), wait)
		if ev.ID != "" || ev.Type != "position" || string(ev.Data) != `{"lng":120.1}` {
			t.Errorf("got %+v", ev)
		}
		next(t, sb.Events(), wait)
		if _, err := realtime.EphemeralMessage("reset", nil); !errors.Is(err, realtime.ErrInvalidType) {
			t.Errorf("reserved type: %v", err)
		}
	})
	t.Run("messages in another format are ignored", func(t *testing.T) {
		c := newClient(t, opt)
		if err := c.Publish(context.Background(), realtime.NamespaceOf(c).Wire(ch), `{"type":"position"}`).Err(); err != nil {
			t.Fatal(err)
		}
		quiet(t, sa.Events(), 100*time.Millisecond)
	})
	t.Run("other channels and tenants are not heard", func(t *testing.T) {
		publish(t, pub, realtime.OrderChannel(tenantID(), "o-1"), "status", nil)
		publish(t, pub, realtime.HallChannel(tenantID()), "order", nil)
		quiet(t, sa.Events(), 200*time.Millisecond)
	})
}

// One Redis subscription per channel and process however many local subscribers, released
// with the last of them.
func TestHubSharesOneRedisSubscription(t *testing.T) {
	t.Parallel()
	opt := redisOptions(t)
	rdb := newClient(t, opt)
	h := startHub(t, newClient(t, opt))
	pub := realtime.NewPublisher(rdb)
	tid := tenantID()
	hall, admin := realtime.HallChannel(tid), realtime.AdminChannel(tid)

	var subs []*realtime.Subscription
	for range 50 {
		subs = append(subs, subscribe(t, h, hall))
	}
	both := subscribe(t, h, hall, admin, hall) // a repeated channel counts once
	if n := numSub(t, rdb, hall); n != 1 {
		t.Fatalf("%d Redis subscribers to the hall; want 1 for 51 local ones", n)
	}
	if n := numSub(t, rdb, admin); n != 1 {
		t.Fatalf("%d Redis subscribers to the admin feed; want 1", n)
	}
	id := publish(t, pub, hall, "order", nil)
	for i, s := range append(subs, both) {
		if ev := next(t, s.Events(), wait); ev.ID != id {
			t.Fatalf("subscriber %d got %+v", i, ev)
		}
	}
	quiet(t, both.Events(), 100*time.Millisecond) // once, not once per listed channel

	for _, s := range subs {
		s.Close()
		if _, ok := <-s.Events(); ok {
			t.Fatal("events still open after Close")
		}
		if s.Err() != nil {
			t.Fatalf("Err after Close: %v", s.Err())
		}
	}
	if n := numSub(t, rdb, hall); n != 1 {
		t.Fatalf("hall unsubscribed while a subscriber remains (%d)", n)
	}
	both.Close()
	eventually(t, wait, "hall and admin unsubscribed", func() bool {
		return numSub(t, rdb, hall) == 0 && numSub(t, rdb, admin) == 0
	})

	t.Run("resubscribing after the last left", func(t *testing.T) {
		for range 20 { // unsubscribe and subscribe race each other on the wire
			s := subscribe(t, h, hall)
			id := publish(t, pub, hall, "order", nil)
			if ev := next(t, s.Events(), wait); ev.ID != id {
				t.Fatalf("got %+v; want %s", ev, id)
			}
			s.Close()
		}
	})
}

// A subscriber that stops reading is dropped with ErrLagged; the others get every event
// without waiting for it.
func TestSlowSubscriberIsDropped(t *testing.T) {
	t.Parallel()
	opt := redisOptions(t)
	rdb := newClient(t, opt)
	h := startHub(t, newClient(t, opt), realtime.WithBuffer(8))
	pub := realtime.NewPublisher(rdb)
	ch := realtime.HallChannel(tenantID())

	slow := subscribe(t, h, ch)
	fast := subscribe(t, h, ch)
	// In step with the fast reader: its buffer never fills, the slow one's overflows at the
	// ninth event and every later one finds it gone.
	var want []string
	for i := range 100 {
		id := publish(t, pub, ch, "order", i)
		want = append(want, id)
		if ev := next(t, fast.Events(), wait); ev.ID != id {
			t.Fatalf("fast subscriber got %+v; want %s", ev, id)
		}
	}

	var drained []string
	for ev := range slow.Events() { // closed once dropped
		drained = append(drained, ev.ID)
	}
	if !errors.Is(slow.Err(), realtime.ErrLagged) {
		t.Fatalf("slow subscriber Err %v; want ErrLagged", slow.Err())
	}
	if len(drained) != 8 || strings.Join(drained, ",") != strings.Join(want[:8], ",") {
		t.Fatalf("slow subscriber kept %q; want the first 8 events", drained)
	}
	if n := numSub(t, rdb, ch); n != 1 {
		t.Fatalf("%d Redis subscribers; the fast one still needs 1", n)
	}
}

// CLIENT KILL on the hub's connection: the hub reconnects, subscribes again and tells its
// subscribers to resync.
func TestHubResubscribesAfterClientKill(t *testing.T) {
	t.Parallel()
	opt := redisOptions(t)
	admin := newClient(t, opt)
	hubOpt := *opt
	hubOpt.ClientName = "rt-hub-" + randHex(6)
	h := startHub(t, newClient(t, &hubOpt), realtime.WithHealthCheck(200*time.Millisecond))
	pub := realtime.NewPublisher(admin)
	ch := realtime.OrderChannel(tenantID(), "o-1")
	s := subscribe(t, h, ch)

	for round := range 3 {
		killed := killPubSub(t, admin, hubOpt.ClientName)
		if killed != 1 {
			t.Fatalf("killed %d pub/sub connections of the hub; want 1", killed)
		}
		if ev := next(t, s.Events(), wait); ev.Kind != realtime.KindResync {
			t.Fatalf("round %d: got %+v; want a resync marker", round, ev)
		}
		eventually(t, wait, "resubscribed", func() bool { return numSub(t, admin, ch) == 1 })
		id := publish(t, pub, ch, "status", round)
		if ev := nextMessage(t, s.Events(), wait); ev.ID != id {
			t.Fatalf("round %d: got %+v; want %s", round, ev, id)
		}
	}
}

// killPubSub kills the pub/sub connections named name and says how many.
func killPubSub(t testing.TB, rdb *redis.Client, name string) int {
	t.Helper()
	ctx := context.Background()
	list, err := rdb.Do(ctx, "CLIENT", "LIST", "TYPE", "pubsub").Text()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(list, "\n") {
		if !strings.Contains(line, " name="+name+" ") {
			continue
		}
		for _, f := range strings.Fields(line) {
			if id, ok := strings.CutPrefix(f, "id="); ok {
				if err := rdb.Do(ctx, "CLIENT", "KILL", "ID", id).Err(); err != nil {
					t.Fatal(err)
				}
				n++
			}
		}
	}
	return n
}

// Redis unreachable for a while: Subscribe gives up with ErrUnavailable; once Redis is back,
// the hub reconnects, resubscribes and resyncs, and a feed replays what was published meanwhile.
func TestHubSurvivesAnOutage(t *testing.T) {
	t.Parallel()
	opt := redisOptions(t)
	direct := newClient(t, opt)
	px := newProxy(t, opt.Addr)
	viaProxy := *opt
	viaProxy.Addr = px.addr()
	viaProxy.MaxRetries = -1
	viaProxy.DialTimeout = 200 * time.Millisecond
	h := startHub(t, newClient(t, &viaProxy), realtime.WithHealthCheck(200*time.Millisecond),
		realtime.WithSubscribeTimeout(500*time.Millisecond))
	pub := realtime.NewPublisher(direct)
	tid := tenantID()
	ch := realtime.OrderChannel(tid, "o-1")

	first := publish(t, pub, ch, "status", 0)
	f := follow(t, h, first, ch)
	if ev := next(t, f.Events(), wait); ev.Type != realtime.TypeReady || ev.ID != first {
		t.Fatalf("got %+v; want ready at %s", ev, first)
	}
	s := subscribe(t, h, ch)
	live := publish(t, pub, ch, "status", 1)
	for _, evs := range []<-chan realtime.Event{f.Events(), s.Events()} {
		if ev := next(t, evs, wait); ev.ID != live {
			t.Fatalf("got %+v; want %s", ev, live)
		}
	}

	px.down.Store(true)
	px.cut()
	var missed []string
	for i := range 5 {
		missed = append(missed, publish(t, pub, ch, "status", 10+i))
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if _, err := h.Subscribe(ctx, realtime.HallChannel(tid)); !errors.Is(err, realtime.ErrUnavailable) {
		t.Fatalf("Subscribe during the outage: %v; want ErrUnavailable", err)
	}
	time.Sleep(300 * time.Millisecond)
	px.down.Store(false)

	if ev := next(t, s.Events(), wait); ev.Kind != realtime.KindResync {
		t.Fatalf("subscription got %+v; want a resync marker", ev)
	}
	for _, want := range missed {
		if ev := next(t, f.Events(), wait); ev.ID != want {
			t.Fatalf("feed got %+v; want the missed %s", ev, want)
		}
	}
	after := publish(t, pub, ch, "status", 20)
	if ev := next(t, f.Events(), wait); ev.ID != after {
		t.Fatalf("feed got %+v; want %s", ev, after)
	}
	quiet(t, f.Events(), 200*time.Millisecond)
}

// A connection that dies silently (no error, no FIN) is noticed by the health check.
func TestHubNoticesASilentConnection(t *testing.T) {
	t.Parallel()
	opt := redisOptions(t)
	direct := newClient(t, opt)
	px := newProxy(t, opt.Addr)
	viaProxy := *opt
	viaProxy.Addr = px.addr()
	h := startHub(t, newClient(t, &viaProxy), realtime.WithHealthCheck(150*time.Millisecond))
	pub := realtime.NewPublisher(direct)
	ch := realtime.OrderChannel(tenantID(), "o-1")
	f := follow(t, h, "", ch)
	if ev := next(t, f.Events(), wait); ev.Type != realtime.TypeReady {
		t.Fatalf("got %+v", ev)
	}

	px.blackhole()
	var want []string
	for i := range 3 {
		want = append(want, publish(t, pub, ch, "status", i))
	}
	start := time.Now()
	for _, id := range want {
		if ev := next(t, f.Events(), wait); ev.ID != id {
			t.Fatalf("got %+v; want %s", ev, id)
		}
	}
	t.Logf("recovered after %s", time.Since(start).Round(time.Millisecond))
	id := publish(t, pub, ch, "status", 9)
	if ev := next(t, f.Events(), wait); ev.ID != id {
		t.Fatalf("got %+v; want %s", ev, id)
	}
}

func TestHubClose(t *testing.T) {
	t.Parallel()
	opt := redisOptions(t)
	rdb := newClient(t, opt)
	h := realtime.NewHub(newClient(t, opt), testLog())
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- h.Run(ctx) }()
	ch := realtime.HallChannel(tenantID())
	s := subscribe(t, h, ch)
	f := follow(t, h, "", ch)
	next(t, f.Events(), wait) // ready

	cancel() // the server shutting down
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(wait):
		t.Fatal("Run did not return")
	}
	for range s.Events() {
	}
	if !errors.Is(s.Err(), realtime.ErrClosed) {
		t.Fatalf("subscription Err %v; want ErrClosed", s.Err())
	}
	for range f.Events() {
	}
	if !errors.Is(f.Err(), realtime.ErrClosed) {
		t.Fatalf("feed Err %v; want ErrClosed", f.Err())
	}
	if _, err := h.Subscribe(context.Background(), ch); !errors.Is(err, realtime.ErrClosed) {
		t.Fatalf("Subscribe after close: %v; want ErrClosed", err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	eventually(t, wait, "hub connection gone", func() bool { return numSub(t, rdb, ch) == 0 })
}

func TestSubscribeNeedsRun(t *testing.T) {
	t.Parallel()
	opt := redisOptions(t)
	h := realtime.NewHub(newClient(t, opt), testLog(), realtime.WithSubscribeTimeout(300*time.Millisecond))
	defer h.Close()
	_, err := h.Subscribe(context.Background(), realtime.HallChannel(tenantID()))
	if !errors.Is(err, realtime.ErrUnavailable) {
		t.Fatalf("Subscribe without Run: %v; want ErrUnavailable", err)
	}
	var ra interface{ RetryAfter() time.Duration }
	if !errors.As(err, &ra) || ra.RetryAfter() <= 0 {
		t.Fatal("ErrUnavailable carries no retry hint")
	}
	if _, err := h.Subscribe(context.Background()); !errors.Is(err, realtime.ErrInvalidChannel) {
		t.Fatalf("no channels: %v", err)
	}
}

// Subscribe returns only once Redis has the subscription, so an event published right after it
// returns is delivered, however slow the hub's connection is.
func TestSubscribeWaitsForRedis(t *testing.T) {
	t.Parallel()
	opt := redisOptions(t)
	direct := newClient(t, opt)
	px := newProxy(t, opt.Addr)
	viaProxy := *opt
	viaProxy.Addr = px.addr()
	h := startHub(t, newClient(t, &viaProxy))
	pub := realtime.NewPublisher(direct)
	tid := tenantID()
	subscribe(t, h, realtime.HallChannel(tid)) // the connection is up

	px.delay.Store(int64(100 * time.Millisecond))
	for i := range 5 {
		ch := realtime.OrderChannel(tid, fmt.Sprint(i))
		s := subscribe(t, h, ch)
		id := publish(t, pub, ch, "status", i)
		if ev := next(t, s.Events(), wait); ev.ID != id {
			t.Fatalf("got %+v; want %s", ev, id)
		}
	}
}

// Pub/sub is server-wide but keys are per database: a hub on one database must not hear a
// publisher on another, even on the same channel name (two test packages, two deployments).
func TestDatabasesDoNotHearEachOther(t *testing.T) {
	optA, optB := redisOptions(t), redisOptions(t)
	if optA.DB == optB.DB {
		t.Skip("needs two Redis databases")
	}
	a, b := newClient(t, optA), newClient(t, optB)
	ch := realtime.HallChannel(7)
	subA := subscribe(t, startHub(t, a), ch)
	if _, err := realtime.NewPublisher(b).Publish(context.Background(), ch, "open", 1); err != nil {
		t.Fatal(err)
	}
	if _, err := realtime.NewPublisher(a).Publish(context.Background(), ch, "open", 2); err != nil {
		t.Fatal(err)
	}
	ev := next(t, subA.Events(), 5*time.Second)
	if string(ev.Data) != "2" {
		t.Errorf("database A heard %s first; want only its own event", ev.Data)
	}
}
