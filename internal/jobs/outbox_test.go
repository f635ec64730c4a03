package jobs

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/store"
)

type orderRef struct {
	OrderID int64 `json:"orderId"`
}

// A committed Add is relayed on NOTIFY (the poll interval is a minute, so nothing else could
// wake the relay), and the handler runs once with the tenant in ctx, also after the relay's
// LISTEN connection was killed.
func TestCommittedMessageRunsOnceWithTenant(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	tn := e.addTenant(t, "north-campus", tenancy.StatusActive)

	type run struct {
		tenant *tenancy.Tenant
		order  int64
	}
	var mu sync.Mutex
	var runs []run
	s := e.newServer(t, testCfg())
	s.Handle("orders:expire", Typed(func(ctx context.Context, d orderRef) error {
		got, _ := tenancy.From(ctx)
		mu.Lock()
		runs = append(runs, run{got, d.OrderID})
		mu.Unlock()
		return nil
	}))
	start(t, s)
	runsNow := func() []run { mu.Lock(); defer mu.Unlock(); return append([]run(nil), runs...) }

	cfg := testCfg()
	cfg.OutboxPollInterval = time.Minute
	relay := NewRelay(e.db, e.client, e.dbURL, cfg, e.log)
	rctx, stop := context.WithCancel(ctx)
	relayDone := make(chan error, 1)
	go func() { relayDone <- relay.Run(rctx) }()
	t.Cleanup(func() {
		stop()
		if err := <-relayDone; err != nil {
			t.Errorf("relay: %v", err)
		}
	})
	waitListening(t, e)

	add := func(order int64) {
		err := e.db.InTenant(ctx, store.Schema(tn.Schema), func(tx *gorm.DB) error {
			return NewOutbox().Add(tx, Message{TenantID: tn.ID, Type: "orders:expire", Data: orderRef{order}})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	add(7)
	eventually(t, 5*time.Second, "handler run", func() bool { return len(runsNow()) == 1 })

	// Kill the listener: the relay reconnects and a new row is still relayed without polling.
	if err := e.db.Gorm.Exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND query = 'LISTEN paotui_outbox'`).Error; err != nil {
		t.Fatal(err)
	}
	waitListening(t, e)
	add(8)
	eventually(t, 5*time.Second, "second handler run", func() bool { return len(runsNow()) == 2 })
	time.Sleep(500 * time.Millisecond) // room for a wrong second run to show up

	got := runsNow()
	if len(got) != 2 {
		t.Fatalf("handler ran %d times, want 2", len(got))
	}
	for i, want := range []int64{7, 8} {
		if got[i].order != want || got[i].tenant == nil || got[i].tenant.ID != tn.ID || got[i].tenant.Slug != "north-campus" {
			t.Errorf("run %d: order %d tenant %+v; want order %d of tenant %d", i, got[i].order, got[i].tenant, want, tn.ID)
		}
	}
	for _, r := range e.outboxRows(t) {
		if r.RelayedAt == nil {
			t.Errorf("row %d not marked relayed", r.ID)
		}
	}
	n, _, err := NewOutbox().Pending(ctx, e.db.Gorm)
	if err != nil || n != 0 {
		t.Fatalf("Pending = %d, %v; want 0", n, err)
	}
}

// waitListening waits until a session of this database is parked on LISTEN paotui_outbox.
func waitListening(t *testing.T, e *env) {
	t.Helper()
	eventually(t, 5*time.Second, "relay LISTEN", func() bool {
		var n int
		_ = e.db.Gorm.Raw(`SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND query = 'LISTEN paotui_outbox' AND state = 'idle'`).Scan(&n).Error
		return n == 1
	})
}

func TestRolledBackMessageIsNeverRelayed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	tn := e.addTenant(t, "south-campus", tenancy.StatusActive)
	boom := errors.New("payment declined")
	err := e.db.InTenant(ctx, store.Schema(tn.Schema), func(tx *gorm.DB) error {
		if err := NewOutbox().Add(tx, Message{TenantID: tn.ID, Type: "orders:expire", Data: orderRef{1}}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTenant = %v, want %v", err, boom)
	}
	n, err := NewRelay(e.db, e.client, e.dbURL, testCfg(), e.log).RelayOnce(ctx)
	if err != nil || n != 0 {
		t.Fatalf("RelayOnce = %d, %v; want 0", n, err)
	}
	if rows := e.outboxRows(t); len(rows) != 0 {
		t.Fatalf("outbox has %d rows after rollback", len(rows))
	}
	if qs, err := e.insp.Queues(); err != nil || len(qs) != 0 {
		t.Fatalf("Redis queues = %v, %v; want none", qs, err)
	}
}

func TestAddValidates(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cases := []struct {
		name string
		msg  Message
		want error
	}{
		{"type without domain", Message{Type: "expire"}, ErrBadType},
		{"upper-case type", Message{Type: "Orders:expire"}, ErrBadType},
		{"unknown queue", Message{Type: "orders:expire", Queue: "tenant_7"}, ErrBadQueue},
		{"platform message", Message{Type: "reports:daily", Queue: QueueLow, ProcessAt: time.Now().Add(time.Hour)}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := e.db.Gorm.Transaction(func(tx *gorm.DB) error { return NewOutbox().Add(tx, tc.msg) })
			if !errors.Is(err, tc.want) {
				t.Fatalf("Add = %v, want %v", err, tc.want)
			}
		})
	}
	var row struct {
		TenantID  *int64
		Queue     string
		ProcessAt *time.Time
		Payload   string
	}
	if err := e.db.Gorm.Raw(`SELECT tenant_id, queue, process_at, payload::text AS payload FROM public.outbox`).Scan(&row).Error; err != nil {
		t.Fatal(err)
	}
	if row.TenantID != nil || row.Queue != QueueLow || row.ProcessAt == nil || row.Payload != "{}" {
		t.Fatalf("stored platform row = %+v", row)
	}
	// Relayed at once, the task waits in Redis for its time.
	if n, err := NewRelay(e.db, e.client, e.dbURL, testCfg(), e.log).RelayOnce(context.Background()); err != nil || n != 1 {
		t.Fatalf("RelayOnce = %d, %v; want 1", n, err)
	}
	scheduled, err := e.insp.ListScheduledTasks(QueueLow)
	if err != nil || len(scheduled) != 1 {
		t.Fatalf("scheduled low tasks = %v, %v; want 1", scheduled, err)
	}
	if d := scheduled[0].NextProcessAt.Sub(*row.ProcessAt); d < -time.Second || d > time.Second {
		t.Fatalf("task runs at %v, want %v", scheduled[0].NextProcessAt, *row.ProcessAt)
	}
}

// Rows are claimed by one relay each, and a row relayed again (its relayed_at lost) is refused
// by task id: every task runs once.
func TestRelayingTwiceRunsOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	const rows = 250 // several batches, so the two relays really interleave
	err := e.db.Gorm.Transaction(func(tx *gorm.DB) error {
		for i := range rows {
			if err := NewOutbox().Add(tx, Message{Type: "reports:build", Data: orderRef{int64(i)}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// Two relays race over the same rows.
	var relayed atomic.Int64
	var wg sync.WaitGroup
	for range 2 {
		client := asynq.NewClient(e.redisOpt)
		t.Cleanup(func() { _ = client.Close() })
		r := NewRelay(e.db, client, e.dbURL, testCfg(), e.log)
		wg.Go(func() {
			for {
				n, err := r.RelayOnce(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				relayed.Add(int64(n))
				if left, _, _ := NewOutbox().Pending(ctx, e.db.Gorm); left == 0 {
					return
				}
			}
		})
	}
	wg.Wait()
	if relayed.Load() != rows {
		t.Fatalf("relays reported %d rows, want %d", relayed.Load(), rows)
	}

	var mu sync.Mutex
	count := map[int64]int{}
	total := func() int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, c := range count {
			n += c
		}
		return n
	}
	s := e.newServer(t, testCfg())
	s.Handle("reports:build", Typed(func(_ context.Context, d orderRef) error {
		mu.Lock()
		count[d.OrderID]++
		mu.Unlock()
		return nil
	}))
	start(t, s)
	eventually(t, 10*time.Second, "all tasks run", func() bool { return total() == rows })

	// The relay lost its bookkeeping (as if it died before COMMIT): relaying again is a no-op.
	if err := e.db.Gorm.Exec(`UPDATE public.outbox SET relayed_at = NULL`).Error; err != nil {
		t.Fatal(err)
	}
	again := NewRelay(e.db, e.client, e.dbURL, testCfg(), e.log)
	for total := 0; total < rows; {
		n, err := again.RelayOnce(ctx)
		if err != nil || n == 0 {
			t.Fatalf("relaying again = %d, %v after %d rows; want all %d (conflicts count as relayed)", n, err, total, rows)
		}
		total += n
	}
	time.Sleep(time.Second) // room for a duplicate to run
	mu.Lock()
	defer mu.Unlock()
	if len(count) != rows {
		t.Fatalf("%d distinct tasks ran, want %d", len(count), rows)
	}
	for id, c := range count {
		if c != 1 {
			t.Errorf("task %d ran %d times", id, c)
		}
	}
}

// With Redis unreachable rows stay pending with the failure recorded; a working relay later
// enqueues them under their outbox task ids.
func TestRedisOutageDelaysButKeepsWork(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	tn := e.addTenant(t, "east-campus", tenancy.StatusActive)
	err := e.db.Gorm.Transaction(func(tx *gorm.DB) error {
		for i := range 2 {
			if err := NewOutbox().Add(tx, Message{TenantID: tn.ID, Type: "orders:expire", Queue: QueueCritical, Data: orderRef{int64(i)}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// Nothing listens on port 1. No go-redis retries, so the test does not wait them out.
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 200 * time.Millisecond, MaxRetries: -1, DialerRetries: 1})
	t.Cleanup(func() { _ = rdb.Close() })
	bad := NewRelay(e.db, asynq.NewClientFromRedisClient(rdb), e.dbURL, testCfg(), e.log)
	for round := 1; round <= 2; round++ {
		n, err := bad.RelayOnce(ctx)
		if err != nil || n != 0 {
			t.Fatalf("RelayOnce with Redis down = %d, %v; want 0, nil", n, err)
		}
		for _, r := range e.outboxRows(t) {
			if r.RelayedAt != nil || r.Attempts != round || r.LastError == "" {
				t.Fatalf("round %d: row %+v; want pending with attempts %d and last_error", round, r, round)
			}
		}
	}
	pending, oldest, err := NewOutbox().Pending(ctx, e.db.Gorm)
	if err != nil || pending != 2 || oldest <= 0 {
		t.Fatalf("Pending = %d, %v, %v; want 2 and a positive age", pending, oldest, err)
	}

	n, err := NewRelay(e.db, e.client, e.dbURL, testCfg(), e.log).RelayOnce(ctx)
	if err != nil || n != 2 {
		t.Fatalf("RelayOnce with Redis back = %d, %v; want 2", n, err)
	}
	for _, r := range e.outboxRows(t) {
		if r.RelayedAt == nil {
			t.Fatalf("row %d still pending", r.ID)
		}
		info, err := e.insp.GetTaskInfo(QueueCritical, TaskID(r.ID))
		if err != nil {
			t.Fatalf("task for row %d: %v", r.ID, err)
		}
		tenant, d, err := Decode[orderRef](asynq.NewTask(info.Type, info.Payload))
		if err != nil || tenant != tn.ID || info.MaxRetry != testCfg().MaxRetry {
			t.Fatalf("task %s: tenant %d data %+v maxRetry %d err %v", info.ID, tenant, d, info.MaxRetry, err)
		}
	}
}

func TestPruneDeletesOnlyOldRelayedRows(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	err := e.db.Gorm.Exec(`INSERT INTO public.outbox (task_type, created_at, relayed_at) VALUES
		('orders:old', now() - interval '50 hours', now() - interval '48 hours'),
		('orders:recent', now() - interval '2 hours', now() - interval '1 hour'),
		('orders:stuck', now() - interval '50 hours', NULL)`).Error
	if err != nil {
		t.Fatal(err)
	}
	p := NewPruner(e.db, testCfg()) // retention 24h
	task, err := NewPruneTask()
	if err != nil || task.Type() != TypePrune {
		t.Fatalf("NewPruneTask = %v, %v", task, err)
	}
	if err := p.HandlePrune(context.Background(), task); err != nil {
		t.Fatal(err)
	}
	var left []string
	if err := e.db.Gorm.Raw(`SELECT task_type FROM public.outbox ORDER BY task_type`).Pluck("task_type", &left).Error; err != nil {
		t.Fatal(err)
	}
	if len(left) != 2 || left[0] != "orders:recent" || left[1] != "orders:stuck" {
		t.Fatalf("rows left after prune: %v; want [orders:recent orders:stuck]", left)
	}
	if n, err := p.Prune(context.Background()); err != nil || n != 0 {
		t.Fatalf("second Prune = %d, %v; want 0", n, err)
	}
}
