package dispatch_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/paotui/paotui/internal/dispatch"
	"github.com/paotui/paotui/internal/jobs"
	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/store/storetest"
)

type fakeTenants []tenancy.Tenant

func (f fakeTenants) Active(context.Context) ([]tenancy.Tenant, error) { return f, nil }

// The tick enqueues one batch per active tenant, and never a second while the first waits.
func TestTickFansOutOneBatchPerTenant(t *testing.T) {
	t.Parallel()
	opt, err := asynq.ParseRedisURI(storetest.Redis(t))
	if err != nil {
		t.Fatal(err)
	}
	client, insp := asynq.NewClient(opt), asynq.NewInspector(opt)
	t.Cleanup(func() { _ = client.Close(); _ = insp.Close() })

	tick, err := dispatch.NewTickTask()
	if err != nil || tick.Type() != dispatch.TaskTick || dispatch.TickSpec() != "@every 10s" {
		t.Fatalf("tick task %v %v, spec %s", tick, err, dispatch.TickSpec())
	}
	h := dispatch.HandleTick(fakeTenants{{ID: 4, Slug: "a"}, {ID: 9, Slug: "b"}}, client)
	for range 3 {
		if err := h(context.Background(), tick); err != nil {
			t.Fatal(err)
		}
	}
	tasks, err := insp.ListPendingTasks(jobs.QueueCritical)
	if err != nil {
		t.Fatal(err)
	}
	var tenants []int64
	for _, ti := range tasks {
		tid, _, err := jobs.Decode[struct{}](asynq.NewTask(ti.Type, ti.Payload))
		if err != nil || ti.Type != dispatch.TaskBatch {
			t.Fatalf("task %s: %v", ti.Type, err)
		}
		tenants = append(tenants, tid)
	}
	slices.Sort(tenants)
	if !slices.Equal(tenants, []int64{4, 9}) {
		t.Fatalf("batch tasks for tenants %v, want one each for 4 and 9", tenants)
	}

	failing := dispatch.HandleTick(fakeTenants{{ID: 5, Slug: "c"}}, failingQueue{})
	if err := failing(context.Background(), tick); err == nil {
		t.Error("an enqueue failure was swallowed")
	}
}

type failingQueue struct{}

func (failingQueue) EnqueueContext(context.Context, *asynq.Task, ...asynq.Option) (*asynq.TaskInfo, error) {
	return nil, errors.New("redis is down")
}

// The batch task raises alerts and offers orders; the delayed task built from the outbox row
// expires the offer.
func TestHandlers(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := tenancy.WithTenant(context.Background(), e.tn)
	e.courier(t, 0, 1)
	orderID := e.order(t, 100, 4*time.Minute)
	batch, err := dispatch.NewBatchTask(e.tn.ID)
	if err != nil {
		t.Fatal(err)
	}

	// Grab mode: the alert goes out, nothing is offered, and that is no failure.
	if err := e.svc.HandleBatch(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if n := e.count(t, `SELECT count(*) FROM dispatch_alerts WHERE order_id = ?`, orderID); n != 1 {
		t.Error("no alert raised")
	}
	if rows := e.offers(t, orderID); len(rows) != 0 {
		t.Fatalf("offered in grab mode: %+v", rows)
	}

	e.setMode(t, dispatch.ModeDispatch, "2m", "30s")
	if err := e.svc.HandleBatch(ctx, batch); err != nil {
		t.Fatal(err)
	}
	rows := e.offers(t, orderID)
	if len(rows) != 1 || rows[0].Status != "pending" {
		t.Fatalf("offers %+v", rows)
	}
	if err := e.svc.HandleBatch(context.Background(), batch); !errors.Is(err, asynq.SkipRetry) {
		t.Errorf("batch without a tenant: %v", err)
	}

	var payload string
	if err := e.db.Gorm.Raw(`SELECT payload::text FROM public.outbox WHERE task_type = ?`, dispatch.TaskExpireOffer).
		Scan(&payload).Error; err != nil {
		t.Fatal(err)
	}
	expire, err := jobs.NewTask(dispatch.TaskExpireOffer, e.tn.ID, json.RawMessage(payload))
	if err != nil {
		t.Fatal(err)
	}
	e.clock.advance(31 * time.Second)
	if err := e.svc.HandleExpireOffer(ctx, expire); err != nil {
		t.Fatal(err)
	}
	if rows := e.offers(t, orderID); rows[0].Status != "expired" {
		t.Fatalf("offer is %s after its task ran", rows[0].Status)
	}
	garbled := asynq.NewTask(dispatch.TaskExpireOffer, []byte("{"))
	if err := e.svc.HandleExpireOffer(ctx, garbled); !errors.Is(err, asynq.SkipRetry) {
		t.Errorf("garbled payload: %v", err)
	}
}
