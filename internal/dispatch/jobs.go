package dispatch

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/paotui/paotui/internal/jobs"
	"github.com/paotui/paotui/internal/platform/tenancy"
)

// Task types.
const (
	// TaskTick is the periodic fan-out (platform task, every TickEvery): one TaskBatch per
	// active tenant.
	TaskTick = "dispatch:tick"
	// TaskBatch raises a tenant's waiting alerts, then runs its dispatch batch.
	TaskBatch = "dispatch:batch"
	// TaskExpireOffer expires one offer at its deadline (delayed, through the outbox).
	TaskExpireOffer = "dispatch:expire_offer"
)

const (
	// TickEvery is the dispatch period: how long a paid order may wait for its first offer,
	// and how late a declined order is offered to the next courier.
	TickEvery = 10 * time.Second
	// batchUnique keeps one batch task per tenant queued or running. It outlives a normal
	// batch by far; it only matters when a batch fails (asynq keeps the lock of an archived
	// task until the TTL), pausing that tenant's batches for at most this long.
	batchUnique = 30 * time.Second
	// batchTimeout bounds one batch; the advisory lock serialises any that overlap anyway.
	batchTimeout = 30 * time.Second
)

// offerRef is the payload of TaskExpireOffer (ids only).
type offerRef struct {
	OfferID string `json:"offerId"`
}

// Tenants lists the tenants the tick visits; the registry implements it.
type Tenants interface {
	Active(ctx context.Context) ([]tenancy.Tenant, error)
}

// Enqueuer puts tasks on the queue; *asynq.Client implements it.
type Enqueuer interface {
	EnqueueContext(ctx context.Context, task *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error)
}

// TickSpec is the scheduler spec of TaskTick.
func TickSpec() string { return "@every " + TickEvery.String() }

// NewTickTask is the periodic fan-out task to register with the scheduler (TickSpec, queue
// critical).
func NewTickTask() (*asynq.Task, error) {
	return jobs.NewTask(TaskTick, 0, nil, asynq.Queue(jobs.QueueCritical), asynq.MaxRetry(0),
		asynq.Timeout(TickEvery))
}

// NewBatchTask is one tenant's batch task. It is unique per tenant (the payload is the tenant
// id), so a tenant whose batch is still queued or running is not given another.
func NewBatchTask(tenantID int64) (*asynq.Task, error) {
	return jobs.NewTask(TaskBatch, tenantID, nil, asynq.Queue(jobs.QueueCritical), asynq.Unique(batchUnique),
		asynq.MaxRetry(2), asynq.Timeout(batchTimeout))
}

// HandleTick enqueues one TaskBatch per active tenant through q. A tenant whose batch is still
// queued is skipped; one tenant's failure does not stop the others.
func HandleTick(tenants Tenants, q Enqueuer) asynq.HandlerFunc {
	return func(ctx context.Context, _ *asynq.Task) error {
		list, err := tenants.Active(ctx)
		if err != nil {
			return fmt.Errorf("dispatch tick: active tenants: %w", err)
		}
		var errs []error
		for i := range list {
			task, err := NewBatchTask(list[i].ID)
			if err == nil {
				_, err = q.EnqueueContext(ctx, task)
			}
			if err != nil && !errors.Is(err, asynq.ErrDuplicateTask) {
				errs = append(errs, fmt.Errorf("%s: %w", list[i].Slug, err))
			}
		}
		return errors.Join(errs...)
	}
}

// HandleBatch is TaskBatch's handler: the tenant's waiting alerts, then its batch (nothing to
// offer in grab mode).
func (s *Service) HandleBatch(ctx context.Context, _ *asynq.Task) error {
	t, ok := tenancy.From(ctx)
	if !ok {
		return fmt.Errorf("dispatch batch without a tenant: %w", asynq.SkipRetry)
	}
	_, alertErr := s.Alerts(ctx, t, s.now())
	_, err := s.RunBatch(ctx, t)
	if errors.Is(err, ErrDispatchOff) {
		err = nil
	}
	return errors.Join(alertErr, err)
}

// HandleExpireOffer is TaskExpireOffer's handler (see ExpireOffer).
func (s *Service) HandleExpireOffer(ctx context.Context, task *asynq.Task) error {
	_, ref, err := jobs.Decode[offerRef](task)
	if err != nil {
		return fmt.Errorf("%v: %w", err, asynq.SkipRetry)
	}
	t, ok := tenancy.From(ctx)
	if !ok {
		return fmt.Errorf("offer task without a tenant: %w", asynq.SkipRetry)
	}
	return s.ExpireOffer(ctx, t, ref.OfferID)
}
