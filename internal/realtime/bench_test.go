package realtime_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/paotui/paotui/internal/realtime"
)

// BenchmarkSSEFanout measures figure (d): 2,000 SSE clients on real HTTP connections follow
// one channel; each iteration publishes one event and times how long until the last of them
// has read it, then does the same for a channel with a single client, as the baseline of the
// same run. It reports the fan-out's p50/p99 and its ratio to the single-client times.
// Percentiles need iterations: run it with
//
//	go test -run '^$' -bench SSEFanout -benchtime 200x ./internal/realtime/
func BenchmarkSSEFanout(b *testing.B) {
	const fanout = 2000
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Cur < 2*fanout+500 {
		b.Skipf("needs %d open files (ulimit -n is %d)", 2*fanout+500, lim.Cur)
	}
	opt := redisOptions(b)
	rdb := newClient(b, opt)
	h := startHub(b, newClient(b, opt))
	pub := realtime.NewPublisher(rdb)
	ts, _ := newSSEServer(b, h, realtime.StreamOptions{}, time.Minute)
	tid := tenantID()
	crowd, lone := realtime.HallChannel(tid), realtime.AdminChannel(tid)

	n := b.N
	crowdRounds, loneRounds := newRounds(n, fanout), newRounds(n, 1)
	ctx, cancel := context.WithCancel(context.Background())
	var readers sync.WaitGroup
	b.Cleanup(func() { cancel(); readers.Wait() })

	connect := func(channel string, rounds []*round) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+"/api/v1/test/events?channel="+channel, nil)
		resp, err := ts.Client().Do(req)
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		c := newSSEClient(resp.Body)
		for { // past the retry hint, up to ready: from here on the client is live
			ev, err := c.next()
			if err != nil {
				resp.Body.Close()
				return err
			}
			if ev.Event == realtime.TypeReady {
				break
			}
		}
		readers.Go(func() {
			defer resp.Body.Close()
			for {
				ev, err := c.next()
				if err != nil {
					return
				}
				if i, err := strconv.Atoi(ev.Data); err == nil && i < len(rounds) {
					rounds[i].arrive()
				}
			}
		})
		return nil
	}
	var g errgroup.Group
	g.SetLimit(64)
	for range fanout {
		g.Go(func() error { return connect(crowd, crowdRounds) })
	}
	g.Go(func() error { return connect(lone, loneRounds) })
	if err := g.Wait(); err != nil {
		b.Fatalf("connect: %v", err)
	}

	measure := func(channel string, r *round, i int) time.Duration {
		start := time.Now()
		if _, err := pub.Publish(ctx, channel, "tick", i); err != nil {
			b.Fatal(err)
		}
		select {
		case <-r.done:
		case <-time.After(30 * time.Second):
			b.Fatalf("event %d on %s: %d clients never got it", i, channel, r.left.Load())
		}
		return r.last.Sub(start)
	}
	crowdTimes := make([]time.Duration, 0, n)
	loneTimes := make([]time.Duration, 0, n)
	b.ResetTimer()
	for i := range n {
		crowdTimes = append(crowdTimes, measure(crowd, crowdRounds[i], i))
		loneTimes = append(loneTimes, measure(lone, loneRounds[i], i))
	}
	b.StopTimer()

	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	c50, c99 := percentile(crowdTimes, 50), percentile(crowdTimes, 99)
	l50, l99 := percentile(loneTimes, 50), percentile(loneTimes, 99)
	b.ReportMetric(ms(c50), "p50-ms")
	b.ReportMetric(ms(c99), "p99-ms")
	b.ReportMetric(ms(l50), "single-p50-ms")
	b.ReportMetric(ms(l99), "single-p99-ms")
	b.ReportMetric(float64(c50)/float64(l50), "p50-x-single")
	b.ReportMetric(float64(c99)/float64(l99), "p99-x-single")
}

// round tracks one published event until every client has read it.
type round struct {
	left atomic.Int64
	last time.Time
	done chan struct{}
}

func newRounds(n, clients int) []*round {
	rs := make([]*round, n)
	for i := range rs {
		rs[i] = &round{done: make(chan struct{})}
		rs[i].left.Store(int64(clients))
	}
	return rs
}

func (r *round) arrive() {
	if r.left.Add(-1) == 0 {
		r.last = time.Now()
		close(r.done)
	}
}

func percentile(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p+99)/100 - 1
	return s[max(i, 0)]
}
