package realtime_test

import (
	"context"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/paotui/paotui/internal/realtime"
)

func TestFeedResumes(t *testing.T) {
	t.Parallel()
	opt := redisOptions(t)
	rdb := newClient(t, opt)
	h := startHub(t, newClient(t, opt))
	pub := realtime.NewPublisher(rdb)
	tid := tenantID()
	ch := realtime.OrderChannel(tid, "o-1")

	t.Run("a new client starts at the present", func(t *testing.T) {
		old := publish(t, pub, ch, "status", "old")
		f := follow(t, h, "", ch)
		ready := next(t, f.Events(), wait)
		if ready.Type != realtime.TypeReady || ready.ID != old || string(ready.Data) != "{}" {
			t.Fatalf("got %+v; want ready at %s", ready, old)
		}
		id := publish(t, pub, ch, "status", "new")
		if ev := next(t, f.Events(), wait); ev.ID != id || ev.Type != "status" || string(ev.Data) != `"new"` {
			t.Fatalf("got %+v; want %s", ev, id)
		}
	})
	t.Run("a new client on a channel with no log yet", func(t *testing.T) {
		empty := realtime.OrderChannel(tid, "o-empty")
		f := follow(t, h, "", empty)
		if ev := next(t, f.Events(), wait); ev.Type != realtime.TypeReady || ev.ID != "0-0" {
			t.Fatalf("got %+v; want ready at 0-0", ev)
		}
		id := publish(t, pub, empty, "status", 1)
		if ev := next(t, f.Events(), wait); ev.ID != id {
			t.Fatalf("got %+v", ev)
		}
		f.Close()
		// Reconnecting from 0-0 replays it: nothing was trimmed.
		g := follow(t, h, "0-0", empty)
		if ev := next(t, g.Events(), wait); ev.ID != id {
			t.Fatalf("got %+v; want %s replayed", ev, id)
		}
	})
	t.Run("a returning client gets exactly what it missed, then live events", func(t *testing.T) {
		seen := publish(t, pub, ch, "status", 0)
		var missed []string
		for i := range 5 {
			missed = append(missed, publish(t, pub, ch, "status", i+1))
		}
		f := follow(t, h, seen, ch)
		for i, want := range missed {
			ev := next(t, f.Events(), wait)
			if ev.ID != want || string(ev.Data) != fmt.Sprint(i+1) {
				t.Fatalf("replayed %+v; want %s", ev, want)
			}
		}
		if ev := next(t, f.Events(), wait); ev.Type != realtime.TypeReady || ev.ID != missed[4] {
			t.Fatalf("got %+v; want ready at %s", ev, missed[4])
		}
		id := publish(t, pub, ch, "status", 9)
		if ev := next(t, f.Events(), wait); ev.ID != id {
			t.Fatalf("got %+v; want %s", ev, id)
		}
		quiet(t, f.Events(), 100*time.Millisecond)
	})
	t.Run("an id the log no longer covers resets the client", func(t *testing.T) {
		f := follow(t, h, "1-0", ch)
		ev := next(t, f.Events(), wait)
		head, _ := pub.Since(context.Background(), ch, "", 1000)
		if ev.Type != realtime.TypeReset || ev.ID != head[len(head)-1].ID {
			t.Fatalf("got %+v; want reset at the head %s", ev, head[len(head)-1].ID)
		}
		id := publish(t, pub, ch, "status", 10)
		if ev := next(t, f.Events(), wait); ev.ID != id {
			t.Fatalf("got %+v", ev)
		}
	})
	t.Run("an unreadable id resets the client", func(t *testing.T) {
		f := follow(t, h, "last-tuesday", ch)
		if ev := next(t, f.Events(), wait); ev.Type != realtime.TypeReset {
			t.Fatalf("got %+v; want reset", ev)
		}
	})
	t.Run("ephemeral events pass without moving the cursor", func(t *testing.T) {
		pos := realtime.PositionChannel(tid, "u-1")
		f := follow(t, h, "", pos)
		ready := next(t, f.Events(), wait)
		if err := pub.PublishEphemeral(context.Background(), pos, "position", []float64{1, 2}); err != nil {
			t.Fatal(err)
		}
		if ev := next(t, f.Events(), wait); ev.ID != "" || ev.Type != "position" {
			t.Fatalf("got %+v", ev)
		}
		id := publish(t, pub, pos, "arrived", nil)
		if ev := next(t, f.Events(), wait); ev.ID != id {
			t.Fatalf("got %+v; want %s after ready %s", ev, id, ready.ID)
		}
	})
	t.Run("duplicate channels are refused", func(t *testing.T) {
		if _, err := h.Follow(context.Background(), "", ch, ch); !errors.Is(err, realtime.ErrInvalidChannel) {
			t.Fatalf("err %v", err)
		}
	})
}

// A feed of several channels has one cursor with a position per channel.
func TestFeedOfSeveralChannels(t *testing.T) {
	t.Parallel()
	opt := redisOptions(t)
	rdb := newClient(t, opt)
	h := startHub(t, newClient(t, opt))
	pub := realtime.NewPublisher(rdb)
	tid := tenantID()
	hall, mine := realtime.HallChannel(tid), realtime.CourierChannel(tid, "u-1")

	f := follow(t, h, "", hall, mine)
	ready := next(t, f.Events(), wait)
	if ready.ID != "0-0,0-0" {
		t.Fatalf("ready at %q; want 0-0,0-0", ready.ID)
	}
	h1 := publish(t, pub, hall, "order", 1)
	m1 := publish(t, pub, mine, "offer", 1)
	if ev := next(t, f.Events(), wait); ev.ID != h1+",0-0" || ev.Channel != hall {
		t.Fatalf("got %+v", ev)
	}
	last := next(t, f.Events(), wait)
	if last.ID != h1+","+m1 || last.Channel != mine {
		t.Fatalf("got %+v", last)
	}
	f.Close()

	h2 := publish(t, pub, hall, "order", 2)
	m2 := publish(t, pub, mine, "offer", 2)
	h3 := publish(t, pub, hall, "order", 3)
	g := follow(t, h, last.ID, hall, mine)
	var got []string
	for range 4 {
		ev := next(t, g.Events(), wait)
		got = append(got, ev.Type+"@"+ev.ID)
	}
	want := []string{
		"order@" + h2 + "," + m1, "order@" + h3 + "," + m1, "offer@" + h3 + "," + m2,
		"ready@" + h3 + "," + m2,
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
	if _, err := h.Follow(context.Background(), h3, hall, mine); err != nil {
		t.Fatal(err) // a one-position cursor for two channels is unreadable: reset, not an error
	}
}

func TestFeedLags(t *testing.T) {
	t.Parallel()
	opt := redisOptions(t)
	rdb := newClient(t, opt)
	h := startHub(t, newClient(t, opt), realtime.WithBuffer(4))
	pub := realtime.NewPublisher(rdb)
	ch := realtime.HallChannel(tenantID())
	f := follow(t, h, "", ch)
	ready := next(t, f.Events(), wait)
	for i := range 50 {
		publish(t, pub, ch, "order", i)
	}
	var got []realtime.Event
	for ev := range f.Events() {
		got = append(got, ev)
	}
	if !errors.Is(f.Err(), realtime.ErrLagged) {
		t.Fatalf("Err %v after %d events; want ErrLagged", f.Err(), len(got))
	}
	// The client reconnects from the last id it got and misses nothing.
	last := ready.ID
	if len(got) > 0 {
		last = got[len(got)-1].ID
	}
	g := follow(t, h, last, ch)
	n := len(got)
	for n < 50 {
		ev := next(t, g.Events(), wait)
		if ev.Type == realtime.TypeReady {
			t.Fatalf("ready after %d of 50 events", n)
		}
		if string(ev.Data) != fmt.Sprint(n) {
			t.Fatalf("event %d has data %s", n, ev.Data)
		}
		n++
	}
	if ev := next(t, g.Events(), wait); ev.Type != realtime.TypeReady {
		t.Fatalf("got %+v; want ready", ev)
	}
}

// Clients join at random moments while several publishers publish as fast as they can, half
// of them resuming from an id they saw earlier and half new. Each must receive exactly the
// log's events after its starting position: none twice, none missing, in order. Slow ones are
// dropped as lagged and reconnect from their last id, as EventSource does.
//
// The publishers go on until every client has joined and "end" comes only after that: on an
// idle machine 6000 events can take less than the clients' join delay, and a new client arriving
// after "end" rightly starts past it, so it would wait for it in vain.
func TestFeedSeamUnderConcurrentPublishing(t *testing.T) {
	t.Parallel()
	opt := redisOptions(t)
	rdb := newClient(t, opt)
	h := startHub(t, newClient(t, opt), realtime.WithBuffer(64))
	pub := realtime.NewPublisher(rdb, realtime.WithMaxLen(1_000_000))
	ch := realtime.HallChannel(tenantID())
	ctx := context.Background()

	const publishers, perPublisher, clients = 4, 1500, 60
	var (
		mu        sync.Mutex
		published []string
	)
	publish(t, pub, ch, "order", "first")
	var joining sync.WaitGroup
	joining.Add(clients)
	allJoined := make(chan struct{})
	go func() { joining.Wait(); close(allJoined) }()
	pubDone := make(chan struct{})
	var pw sync.WaitGroup
	for p := range publishers {
		pw.Go(func() {
			for i := 0; ; i++ {
				if i >= perPublisher {
					select {
					case <-allJoined:
						return
					default:
					}
				}
				id, err := pub.Publish(ctx, ch, "order", fmt.Sprintf("%d-%d", p, i))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				published = append(published, id)
				mu.Unlock()
			}
		})
	}
	go func() { pw.Wait(); close(pubDone) }()

	type result struct {
		start      string
		got        []string
		reconnects int
		err        error
	}
	results := make(chan result, clients)
	var cw sync.WaitGroup
	for c := range clients {
		cw.Go(func() {
			var once sync.Once
			joined := func() { once.Do(joining.Done) }
			defer joined() // a client that fails before its first event must not hold "end" back
			time.Sleep(time.Duration(mrand.IntN(400)) * time.Millisecond)
			var start string
			if c%2 == 0 {
				mu.Lock()
				if n := len(published); n > 0 {
					start = published[mrand.IntN(n)]
				}
				mu.Unlock()
			}
			r := result{start: start}
			r.got, r.reconnects, r.err = readUntilEnd(h, start, ch, &r.start, joined)
			results <- r
		})
	}
	<-pubDone
	<-allJoined
	end := publish(t, pub, ch, "end", nil)
	cw.Wait()
	close(results)

	log, err := rdb.XRange(ctx, "rt:"+ch, "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	if log[len(log)-1].ID != end {
		t.Fatal("the end event is not last in the log")
	}
	order := make([]string, len(log))
	for i, m := range log {
		order[i] = m.ID
	}
	lagged := 0
	for r := range results {
		if r.err != nil {
			t.Errorf("client from %q: %v", r.start, r.err)
			continue
		}
		lagged += r.reconnects
		i, ok := slices.BinarySearchFunc(order, r.start, func(a, b string) int { c, _ := realtime.CompareIDs(a, b); return c })
		if !ok {
			t.Errorf("client started at %q, not an id of the log", r.start)
			continue
		}
		want := order[i+1:]
		if !slices.Equal(r.got, want) {
			t.Errorf("client from %s: got %d events, want %d; first difference at %d", r.start, len(r.got), len(want), firstDiff(r.got, want))
		}
	}
	t.Logf("%d events, %d clients, %d lagged reconnects", len(order), clients, lagged)
}

// readUntilEnd follows ch like a browser: from last ("" for new), reconnecting with its last
// id after being dropped, until it receives the "end" event. It returns the ids of the
// events, and sets *start to where a new client began (its ready id). It calls joined on each
// event: from the first one on, the client's position in the log is fixed.
func readUntilEnd(h *realtime.Hub, last, ch string, start *string, joined func()) ([]string, int, error) {
	var got []string
	reconnects := 0
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		f, err := h.Follow(ctx, last, ch)
		if err != nil {
			cancel()
			return got, reconnects, err
		}
		for ev := range f.Events() {
			joined()
			switch ev.Type {
			case realtime.TypeReset:
				f.Close()
				cancel()
				return got, reconnects, fmt.Errorf("reset at %s", ev.ID)
			case realtime.TypeReady:
				if last == "" && *start == "" {
					*start = ev.ID
				}
			default:
				got = append(got, ev.ID)
			}
			last = ev.ID
			if ev.Type == "end" {
				f.Close()
				cancel()
				return got, reconnects, nil
			}
			if mrand.IntN(200) == 0 {
				time.Sleep(20 * time.Millisecond) // now and then a reader falls behind
			}
		}
		err = f.Err()
		f.Close()
		cancel()
		if !errors.Is(err, realtime.ErrLagged) {
			return got, reconnects, fmt.Errorf("feed ended: %v", err)
		}
		reconnects++
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
