package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/paotui/paotui/internal/platform/tenancy"
)

func TestEnvelopeRoundTrip(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		typ     string
		tenant  int64
		data    any
		payload []byte // decoded instead of a NewTask result when set
		want    orderRef
		wantErr error
	}{
		{name: "tenant task", typ: "orders:expire", tenant: 42, data: orderRef{7}, want: orderRef{7}},
		{name: "platform task without data", typ: "outbox:prune"},
		{name: "bad type", typ: "orders.expire", wantErr: ErrBadType},
		{name: "not json", typ: "orders:expire", payload: []byte("7"), wantErr: ErrBadPayload},
		{name: "negative tenant", typ: "orders:expire", payload: []byte(`{"tenantId":-1}`), wantErr: ErrBadPayload},
		{name: "data of another shape", typ: "orders:expire", payload: []byte(`{"tenantId":1,"data":{"orderId":"x"}}`), wantErr: ErrBadPayload},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			task := asynq.NewTask(tc.typ, tc.payload)
			if tc.payload == nil {
				var err error
				task, err = NewTask(tc.typ, tc.tenant, tc.data)
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("NewTask = %v, want %v", err, tc.wantErr)
				}
				if err != nil {
					return
				}
			}
			tenant, got, err := Decode[orderRef](task)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Decode = %v, want %v", err, tc.wantErr)
			}
			if err == nil && (tenant != tc.tenant || got != tc.want) {
				t.Fatalf("Decode = %d, %+v; want %d, %+v", tenant, got, tc.tenant, tc.want)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	cases := []struct {
		n        int
		min, max time.Duration
	}{
		{0, 500 * time.Millisecond, time.Second},
		{3, 4 * time.Second, 8 * time.Second},
		{9, 256 * time.Second, 512 * time.Second},
		{10, 5 * time.Minute, 10 * time.Minute}, // 1024s, capped at 10m
		{100, 5 * time.Minute, 10 * time.Minute},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.n), func(t *testing.T) {
			for range 50 {
				if d := Backoff(tc.n); d < tc.min || d > tc.max {
					t.Fatalf("Backoff(%d) = %v, want within [%v, %v]", tc.n, d, tc.min, tc.max)
				}
			}
		})
	}
}

func TestFailingHandlerIsRetried(t *testing.T) {
	t.Parallel()
	e := redisEnv(t)
	var runs atomic.Int32
	s := e.newServer(t, testCfg())
	s.Handle("payments:settle", func(context.Context, *asynq.Task) error {
		if runs.Add(1) <= 2 {
			return errors.New("provider unavailable")
		}
		return nil
	})
	start(t, s)
	task, err := NewTask("payments:settle", 0, nil, asynq.MaxRetry(5), asynq.Queue(QueueCritical))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.Enqueue(task); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "third run", func() bool { return runs.Load() == 3 })
	time.Sleep(500 * time.Millisecond)
	if n := runs.Load(); n != 3 {
		t.Fatalf("handler ran %d times, want 3 (two failures, one success)", n)
	}
	stats, err := QueueStats(context.Background(), e.insp)
	if err != nil {
		t.Fatal(err)
	}
	if c := stats[0]; c.Queue != QueueCritical || c.FailedToday != 2 || c.ProcessedToday != 3 || c.Archived != 0 || c.Retry != 0 {
		t.Fatalf("critical queue stats = %+v; want 3 processed, 2 failed, nothing archived", c)
	}
}

// With a cap of 1 a tenant's tasks never overlap, while another tenant's run beside them; the
// tasks that met a busy tenant are postponed without being counted as failures.
func TestPerTenantCap(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.addTenant(t, "tenant-a", tenancy.StatusActive)
	b := e.addTenant(t, "tenant-b", tenancy.StatusActive)
	cfg := testCfg()
	cfg.PerTenantConcurrency = 1

	var mu sync.Mutex
	active := map[int64]int{}
	peak := map[int64]int{}
	done := map[int64]int{}
	crossed := false
	busy := &countingHandler{match: "task postponed: tenant busy"}
	e.log = slog.New(busy)
	s := e.newServer(t, cfg)
	s.busyWait = 50 * time.Millisecond
	s.Handle("dispatch:offer", func(ctx context.Context, _ *asynq.Task) error {
		tn, ok := tenancy.From(ctx)
		if !ok {
			return errors.New("no tenant in ctx")
		}
		mu.Lock()
		active[tn.ID]++
		peak[tn.ID] = max(peak[tn.ID], active[tn.ID])
		if active[a.ID] > 0 && active[b.ID] > 0 {
			crossed = true
		}
		mu.Unlock()
		time.Sleep(200 * time.Millisecond)
		mu.Lock()
		active[tn.ID]--
		done[tn.ID]++
		mu.Unlock()
		return nil
	})
	start(t, s)
	for range 3 {
		for _, tn := range []*tenancy.Tenant{a, b} {
			task, err := NewTask("dispatch:offer", tn.ID, nil, asynq.MaxRetry(1))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.client.Enqueue(task); err != nil {
				t.Fatal(err)
			}
		}
	}
	eventually(t, 20*time.Second, "all six tasks", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return done[a.ID] == 3 && done[b.ID] == 3
	})
	mu.Lock()
	defer mu.Unlock()
	if peak[a.ID] != 1 || peak[b.ID] != 1 {
		t.Errorf("peak concurrency per tenant = %v, want 1 each", peak)
	}
	if !crossed {
		t.Error("tenants a and b never ran at the same time")
	}
	if busy.n.Load() == 0 {
		t.Error("no task was postponed for a busy tenant; the test did not exercise the cap")
	}
	stats, err := QueueStats(context.Background(), e.insp)
	if err != nil {
		t.Fatal(err)
	}
	if d := stats[1]; d.Queue != QueueDefault || d.FailedToday != 0 || d.Archived != 0 || d.ProcessedToday != 6 {
		t.Errorf("default queue stats = %+v; want 6 processed, none failed or archived", d)
	}
}

// A task the handler refuses with SkipRetry, and tasks of deleted or unknown tenants, are
// archived at once and show up in QueueStats.
func TestArchivedTasksAreVisible(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	gone := e.addTenant(t, "closed-campus", tenancy.StatusDeleted)
	var runs atomic.Int32
	s := e.newServer(t, testCfg())
	s.Handle("exports:build", func(context.Context, *asynq.Task) error {
		runs.Add(1)
		return fmt.Errorf("export template missing: %w", asynq.SkipRetry)
	})
	s.Handle("notify:send", func(context.Context, *asynq.Task) error {
		runs.Add(100) // must never run
		return nil
	})
	start(t, s)
	enqueue := func(typ string, tenant int64, queue string) {
		task, err := NewTask(typ, tenant, nil, asynq.Queue(queue), asynq.MaxRetry(5))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.client.Enqueue(task); err != nil {
			t.Fatal(err)
		}
	}
	enqueue("exports:build", 0, QueueLow)
	enqueue("notify:send", gone.ID, QueueDefault)
	enqueue("notify:send", 999, QueueDefault)

	var stats []QueueStat
	eventually(t, 10*time.Second, "archived tasks", func() bool {
		var err error
		stats, err = QueueStats(context.Background(), e.insp)
		if err != nil {
			t.Fatal(err)
		}
		return stats[2].Archived == 1 && stats[1].Archived == 2
	})
	if n := runs.Load(); n != 1 {
		t.Fatalf("handler runs = %d, want 1 (deleted and unknown tenants' tasks must not run)", n)
	}
	want := []string{QueueCritical, QueueDefault, QueueLow}
	for i, q := range want {
		if stats[i].Queue != q {
			t.Fatalf("stats[%d] is %q, want %q", i, stats[i].Queue, q)
		}
	}
	if c := stats[0]; c.Size != 0 || c.Archived != 0 {
		t.Errorf("unused critical queue = %+v, want zeros", c)
	}
	if l := stats[2]; l.FailedToday != 1 || l.Size != 1 || l.Pending != 0 {
		t.Errorf("low queue = %+v; want 1 failed, 1 archived", l)
	}
	archived, err := e.insp.ListArchivedTasks(QueueLow)
	if err != nil || len(archived) != 1 || archived[0].Type != "exports:build" || archived[0].Retried != 0 {
		t.Fatalf("archived low tasks = %+v, %v; want the exports:build task, not retried", archived, err)
	}
}

// countingHandler counts log records with a given message.
type countingHandler struct {
	match string
	n     atomic.Int32
}

func (h *countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *countingHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *countingHandler) WithGroup(string) slog.Handler            { return h }
func (h *countingHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.match {
		h.n.Add(1)
	}
	return nil
}

// Handlers match task types exactly (asynq's ServeMux matches prefixes).
func TestHandleMatchesExactType(t *testing.T) {
	t.Parallel()
	e := redisEnv(t)
	var runs atomic.Int32
	s := e.newServer(t, testCfg())
	s.Handle("orders:expire", func(context.Context, *asynq.Task) error { runs.Add(1); return nil })
	func() {
		defer func() {
			if recover() == nil {
				t.Error("registering orders:expire twice did not panic")
			}
		}()
		s.Handle("orders:expire", func(context.Context, *asynq.Task) error { return nil })
	}()
	start(t, s)
	task, err := NewTask("orders:expire_late", 0, nil, asynq.MaxRetry(0))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.Enqueue(task); err != nil {
		t.Fatal(err)
	}
	var archived []*asynq.TaskInfo
	eventually(t, 5*time.Second, "unhandled task archived", func() bool {
		archived, _ = e.insp.ListArchivedTasks(QueueDefault)
		return len(archived) == 1
	})
	if !strings.Contains(archived[0].LastErr, "handler not found") || runs.Load() != 0 {
		t.Fatalf("archived with %q after %d runs of orders:expire; want handler not found, 0 runs", archived[0].LastErr, runs.Load())
	}
}
