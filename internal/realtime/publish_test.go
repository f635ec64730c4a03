package realtime_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/paotui/paotui/internal/realtime"
)

func TestPublishAndReplay(t *testing.T) {
	t.Parallel()
	opt := redisOptions(t)
	rdb := newClient(t, opt)
	ctx := context.Background()
	pub := realtime.NewPublisher(rdb)
	ch := realtime.OrderChannel(tenantID(), "o-1")

	var ids []string
	for i := range 10 {
		ids = append(ids, publish(t, pub, ch, "status", map[string]int{"n": i}))
	}
	for i := 1; i < len(ids); i++ {
		if c, err := realtime.CompareIDs(ids[i-1], ids[i]); err != nil || c >= 0 {
			t.Fatalf("ids not increasing: %s then %s", ids[i-1], ids[i])
		}
	}

	t.Run("from an id: exactly the events after it, in order", func(t *testing.T) {
		evs, err := pub.Since(ctx, ch, ids[3], 100)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for i, ev := range evs {
			got = append(got, ev.ID)
			want := fmt.Sprintf(`{"n":%d}`, i+4)
			if ev.Type != "status" || string(ev.Data) != want || ev.Channel != ch {
				t.Errorf("event %d: %+v; want status %s", i, ev, want)
			}
		}
		if !slices.Equal(got, ids[4:]) {
			t.Fatalf("replayed %q; want %q", got, ids[4:])
		}
	})
	t.Run("pages", func(t *testing.T) {
		var got []string
		last := ids[0]
		for {
			evs, err := pub.Since(ctx, ch, last, 4)
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range evs {
				got = append(got, ev.ID)
			}
			if len(evs) < 4 {
				break
			}
			last = evs[len(evs)-1].ID
		}
		if !slices.Equal(got, ids[1:]) {
			t.Fatalf("paged %q; want %q", got, ids[1:])
		}
	})
	t.Run("from the newest: nothing, and an empty list", func(t *testing.T) {
		evs, err := pub.Since(ctx, ch, ids[9], 100)
		if err != nil || evs == nil || len(evs) != 0 {
			t.Fatalf("got %v, %v; want [] and no error", evs, err)
		}
	})
	t.Run("no id reads the log from its start", func(t *testing.T) {
		evs, err := pub.Since(ctx, ch, "", 100)
		if err != nil || len(evs) != 10 || evs[0].ID != ids[0] {
			t.Fatalf("got %d events, %v", len(evs), err)
		}
	})
	t.Run("an id that is not ours is a gap", func(t *testing.T) {
		if _, err := pub.Since(ctx, ch, "1-1", 100); !errors.Is(err, realtime.ErrGap) {
			t.Fatalf("err %v; want ErrGap", err)
		}
	})
	t.Run("malformed id", func(t *testing.T) {
		if _, err := pub.Since(ctx, ch, "yesterday", 100); !errors.Is(err, realtime.ErrInvalidID) {
			t.Fatalf("err %v; want ErrInvalidID", err)
		}
	})
	t.Run("the log expires", func(t *testing.T) {
		ttl, err := rdb.PTTL(ctx, "rt:"+ch).Result()
		if err != nil || ttl <= 0 || ttl > realtime.DefaultTTL {
			t.Fatalf("PTTL %v, %v; want within (0, %s]", ttl, err, realtime.DefaultTTL)
		}
	})
}

func TestReplayGaps(t *testing.T) {
	t.Parallel()
	rdb := newClient(t, redisOptions(t))
	ctx := context.Background()
	tid := tenantID()

	t.Run("trimmed log", func(t *testing.T) {
		pub := realtime.NewPublisher(rdb, realtime.WithMaxLen(10))
		ch := realtime.HallChannel(tid)
		var ids []string
		for i := range 400 {
			ids = append(ids, publish(t, pub, ch, "order", i))
		}
		n, _ := rdb.XLen(ctx, "rt:"+ch).Result()
		if n >= 400 {
			t.Fatalf("log holds %d events; MAXLEN did not trim", n)
		}
		if _, err := pub.Since(ctx, ch, ids[0], 100); !errors.Is(err, realtime.ErrGap) {
			t.Fatalf("from a trimmed id: %v; want ErrGap", err)
		}
		if _, err := pub.Since(ctx, ch, "0-0", 100); !errors.Is(err, realtime.ErrGap) {
			t.Fatalf("from 0-0 after trimming: %v; want ErrGap", err)
		}
		evs, err := pub.Since(ctx, ch, ids[395], 100)
		if err != nil || len(evs) != 4 || evs[3].ID != ids[399] {
			t.Fatalf("from a kept id: %d events, %v", len(evs), err)
		}
	})
	t.Run("expired log", func(t *testing.T) {
		pub := realtime.NewPublisher(rdb, realtime.WithTTL(50*time.Millisecond))
		ch := realtime.AdminChannel(tid)
		id := publish(t, pub, ch, "alert", nil)
		eventually(t, 5*time.Second, "log expires", func() bool {
			n, _ := rdb.Exists(ctx, "rt:"+ch).Result()
			return n == 0
		})
		if _, err := pub.Since(ctx, ch, id, 100); !errors.Is(err, realtime.ErrGap) {
			t.Fatalf("from an expired log: %v; want ErrGap", err)
		}
		if evs, err := pub.Since(ctx, ch, "0-0", 100); err != nil || len(evs) != 0 {
			t.Fatalf("from 0-0 with no log: %v, %v; want nothing", evs, err)
		}
	})
	t.Run("0-0 before anything was trimmed", func(t *testing.T) {
		pub := realtime.NewPublisher(rdb)
		ch := realtime.MapChannel(tid)
		a := publish(t, pub, ch, "x", 1)
		evs, err := pub.Since(ctx, ch, "0-0", 100)
		if err != nil || len(evs) != 1 || evs[0].ID != a {
			t.Fatalf("got %v, %v", evs, err)
		}
	})
}

func TestPublishRefusesBadInput(t *testing.T) {
	t.Parallel()
	rdb := newClient(t, redisOptions(t))
	pub := realtime.NewPublisher(rdb)
	ctx := context.Background()
	ch := realtime.HallChannel(tenantID())
	cases := []struct {
		name    string
		channel string
		typ     string
		data    any
		want    error
	}{
		{"reserved type", ch, realtime.TypeReset, nil, realtime.ErrInvalidType},
		{"type with a newline", ch, "a\nb", nil, realtime.ErrInvalidType},
		{"empty channel", "", "x", nil, realtime.ErrInvalidChannel},
		{"channel with a space", "t:1: hall", "x", nil, realtime.ErrInvalidChannel},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := pub.Publish(ctx, tc.channel, tc.typ, tc.data); !errors.Is(err, tc.want) {
				t.Errorf("Publish: %v; want %v", err, tc.want)
			}
			if err := pub.PublishEphemeral(ctx, tc.channel, tc.typ, tc.data); !errors.Is(err, tc.want) {
				t.Errorf("PublishEphemeral: %v; want %v", err, tc.want)
			}
		})
	}
	t.Run("data that is not JSON", func(t *testing.T) {
		if _, err := pub.Publish(ctx, ch, "x", make(chan int)); err == nil {
			t.Fatal("no error")
		}
	})
	t.Run("pre-encoded JSON is sent as is, compacted", func(t *testing.T) {
		id := publish(t, pub, ch, "x", json.RawMessage("{\n \"a\": 1\n}"))
		evs, err := pub.Since(ctx, ch, "", 10)
		if err != nil || len(evs) != 1 || evs[0].ID != id || string(evs[0].Data) != `{"a":1}` {
			t.Fatalf("got %+v, %v", evs, err)
		}
	})
	t.Run("ephemeral events stay out of the log", func(t *testing.T) {
		other := realtime.MapChannel(tenantID())
		if err := pub.PublishEphemeral(ctx, other, "pos", []float64{1, 2}); err != nil {
			t.Fatal(err)
		}
		if n, _ := rdb.Exists(ctx, "rt:"+other).Result(); n != 0 {
			t.Fatal("an ephemeral event created a replay log")
		}
	})
}
