package tracking

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/realtime"
)

// The figure (e): position pings ingested per second by 200 couriers carrying orders,
// pinging at once, with trails written in batches by the flusher, against per-ping baselines
// that write each ping's trail point with its own INSERT, measured in the same run; and the
// latency from a ping to a listener subscribed to the courier's position channel.
//
//	go test -run '^$' -bench PingIngest -benchtime 3x ./internal/tracking/
//
// Targets: ≥ 2,000 pings/s, batched ≥ 5× per-ping, p99 ≤ 200 ms. Every workload goes through
// the same Ping script (the baselines only skip the trail buffer) and is interleaved with the
// others in each iteration, so machine load hits them alike. Two baselines:
//
//   - baseline: the flusher's own write (the Trails setting, then the INSERT) with a batch of
//     one point, in the request: the same code, unbatched;
//   - lean_baseline: the INSERT alone (one-element arrays), ignoring the Trails setting a real
//     implementation must honour; a lower bound for any per-ping design.
//
// Rate limiting is off: the benchmark measures capacity, not policy.
func BenchmarkPingIngest(b *testing.B) {
	const couriers, pingsEach = 200, 20
	const perRun = couriers * pingsEach
	e := newEnv(b)
	e.s.now = time.Now // device times are real, so they are trusted and carry the send time
	ids := make([]string, couriers)
	for i := range ids {
		ids[i] = e.courier(b)
		e.order(b, ids[i], "accepted")
	}
	base := New(e.rdb, e.db, Options{})
	base.minInterval, base.noTrail = e.s.minInterval, true

	// One realtime hub subscribed to every courier's position channel, as the SSE server is
	// when each courier's student follows their order.
	channels := make([]string, couriers)
	for i, id := range ids {
		channels[i] = realtime.PositionChannel(e.tenant.ID, id)
	}
	lat := newLatencies()
	hub := realtime.NewHub(e.rdb, nil, realtime.WithBuffer(perRun))
	go func() { _ = hub.Run(context.Background()) }()
	b.Cleanup(func() { _ = hub.Close() })
	sub, err := hub.Subscribe(context.Background(), channels...)
	if err != nil {
		b.Fatal(err)
	}
	go lat.listen(sub.Events())

	workloads := []struct {
		name    string
		latency bool // record ping → listener latency (the production path only)
		run     func(run int) time.Duration
		took    time.Duration
	}{
		{name: "batched", latency: true, run: func(run int) time.Duration { return e.ingestBatched(b, ids, pingsEach, run) }},
		{name: "baseline", run: func(run int) time.Duration {
			return e.ingestPerPing(b, base, ids, pingsEach, run, func(id string, at time.Time, p Ping) error {
				_, err := e.s.write(context.Background(), e.tenant, onePoint(id, at, p))
				return err
			})
		}},
		{name: "lean_baseline", run: func(run int) time.Duration {
			return e.ingestPerPing(b, base, ids, pingsEach, run, func(id string, at time.Time, p Ping) error {
				return e.db.InTenant(context.Background(), e.tenant, func(tx *gorm.DB) error {
					pt := onePoint(id, at, p)
					_, err := execArrays(context.Background(), tx, insertTrail, pt.courier, pt.at, pt.lng, pt.lat, pt.acc)
					return err
				})
			})
		}},
	}
	run := 0
	b.ResetTimer()
	for range b.N {
		for i := range workloads {
			w := &workloads[i]
			before := e.allTrailRows(b)
			lat.arm(perRun, w.latency)
			w.took += w.run(run)
			run++
			if !lat.wait(10 * time.Second) {
				b.Fatalf("%s: listener heard %d of %d pings", w.name, lat.heard(), perRun)
			}
			if got := e.allTrailRows(b) - before; got != perRun {
				b.Fatalf("%s: %d rows stored for %d pings", w.name, got, perRun)
			}
		}
	}
	b.StopTimer()
	rate := func(i int) float64 { return float64(b.N*perRun) / workloads[i].took.Seconds() }
	p50, p99 := lat.percentiles()
	b.ReportMetric(rate(0), "pings/s")
	b.ReportMetric(rate(1), "baseline_pings/s")
	b.ReportMetric(rate(2), "lean_baseline_pings/s")
	b.ReportMetric(rate(0)/rate(1), "ratio")
	b.ReportMetric(rate(0)/rate(2), "lean_ratio")
	b.ReportMetric(p50, "p50_ms")
	b.ReportMetric(p99, "p99_ms")
	b.ReportMetric(0, "ns/op") // one op is a whole workload; the rates above are the figures
}

func onePoint(id string, at time.Time, p Ping) pointBatch {
	acc := []*float64{nil}
	if p.Accuracy > 0 {
		acc[0] = &p.Accuracy
	}
	return pointBatch{courier: []string{id}, at: []time.Time{at.Truncate(time.Microsecond)},
		lng: []float64{p.Lng}, lat: []float64{p.Lat}, acc: acc}
}

// ingestBatched has every courier send its pings at once while the flusher runs, then waits
// for the flusher to write everything; it returns the time from the first ping to the last
// point stored.
func (e *env) ingestBatched(b *testing.B, ids []string, pingsEach, run int) time.Duration {
	ctx, stop := context.WithCancel(context.Background())
	flusher := make(chan error, 1)
	start := time.Now()
	go func() { flusher <- e.s.RunFlusher(ctx, e.tenants(), 100*time.Millisecond) }()
	e.pingAll(b, e.s, ids, pingsEach, run, nil)
	stop()
	if err := <-flusher; err != nil {
		b.Fatal(err)
	}
	for e.buffered(b) > 0 { // RunFlusher's last pass is time-boxed; finish the job
		if _, err := e.s.Flush(context.Background(), e.tenants()); err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(start)
}

// ingestPerPing is a baseline: each accepted ping is followed by write, its own transaction.
func (e *env) ingestPerPing(b *testing.B, base *Service, ids []string, pingsEach, run int, write func(string, time.Time, Ping) error) time.Duration {
	start := time.Now()
	e.pingAll(b, base, ids, pingsEach, run, write)
	return time.Since(start)
}

// pingAll runs one goroutine per courier, each sending pingsEach fixes in turn, and calls
// after (if any) once each ping is accepted. Couriers walk 3 m north per fix, continuing from
// where the previous run left them (run counts runs), so no fix looks like a jump.
func (e *env) pingAll(b *testing.B, s *Service, ids []string, pingsEach, run int, after func(string, time.Time, Ping) error) {
	var wg sync.WaitGroup
	errs := make(chan error, len(ids))
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range pingsEach {
				at := time.Now()
				p := Ping{Lng: library.Lng + float64(i)*1e-4, Lat: library.Lat + float64(run*pingsEach+k)*3/111_195, Accuracy: 10, At: &at}
				if err := s.Ping(context.Background(), e.tenant, id, p); err != nil {
					errs <- fmt.Errorf("courier %d ping %d: %w", i, k, err)
					return
				}
				if after != nil {
					if err := after(id, at, p); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}

// latencies records, for the pings of the armed run, the time from the device time the ping
// carries (taken just before Ping was called) to the listener receiving it.
type latencies struct {
	mu      sync.Mutex
	samples []float64 // ms, of counted runs
	want    int
	got     int
	counted bool
	done    chan struct{}
}

func newLatencies() *latencies { return &latencies{done: make(chan struct{})} }

// arm starts a run of n events, whose latencies are recorded if counted.
func (l *latencies) arm(n int, counted bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.counted = counted
	l.want, l.got = n, 0
	l.done = make(chan struct{})
}

func (l *latencies) listen(ch <-chan realtime.Event) {
	for ev := range ch {
		recv := time.Now()
		var fix Fix
		if ev.Type != PositionEvent || json.Unmarshal(ev.Data, &fix) != nil {
			continue
		}
		l.mu.Lock()
		if l.counted {
			l.samples = append(l.samples, float64(recv.Sub(fix.At))/float64(time.Millisecond))
		}
		l.got++
		if l.got == l.want {
			close(l.done)
		}
		l.mu.Unlock()
	}
}

func (l *latencies) wait(d time.Duration) bool {
	l.mu.Lock()
	done := l.done
	l.mu.Unlock()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

func (l *latencies) heard() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.got
}

func (l *latencies) percentiles() (p50, p99 float64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.samples) == 0 {
		return 0, 0
	}
	s := slices.Clone(l.samples)
	slices.Sort(s)
	return s[len(s)*50/100], s[min(len(s)-1, len(s)*99/100)]
}
