package tracking

import (
	"context"
	"time"

	"github.com/hibiken/asynq"

	"github.com/paotui/paotui/internal/jobs"
)

// TaskFlush is the periodic fan-out that writes every tenant's buffered trail points.
const TaskFlush = "tracking:flush"

// FlushEvery is the flusher's period: a trail on the admin map lags the live position by at
// most this, and a batch stays small.
const FlushEvery = 2 * time.Second

// NewFlushTask is the platform task (tenant 0) to register with the scheduler every
// FlushEvery. It is never retried: the next period does the same work, and what failed stays
// buffered for it.
func NewFlushTask() (*asynq.Task, error) {
	return jobs.NewTask(TaskFlush, 0, nil, asynq.MaxRetry(0), asynq.Timeout(time.Minute), asynq.Queue(jobs.QueueDefault))
}

// HandleFlush runs Flush for the periodic task.
func (s *Service) HandleFlush(tenants Tenants) asynq.HandlerFunc {
	return func(ctx context.Context, _ *asynq.Task) error {
		n, err := s.Flush(ctx, tenants)
		if n > 0 {
			s.log.Debug("tracking: trail points stored", "rows", n)
		}
		return err
	}
}

// RunFlusher flushes every period until ctx ends, and once more on the way out so a
// graceful shutdown leaves nothing buffered that it could have written. Any number of
// replicas may run one: tenant leases keep them apart, and together they share the load.
// It returns nil when ctx ends.
func (s *Service) RunFlusher(ctx context.Context, tenants Tenants, every time.Duration) error {
	if every <= 0 {
		every = FlushEvery
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	failing := false // log an outage once, not every two seconds
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			_, _ = s.Flush(fctx, tenants)
			cancel()
			return nil
		case <-tick.C:
		}
		_, err := s.Flush(ctx, tenants)
		switch {
		case err != nil && !failing && ctx.Err() == nil:
			s.log.Warn("tracking: trail flush failed; points stay buffered", "err", err)
			failing = true
		case err == nil && failing:
			s.log.Info("tracking: trail flush recovered")
			failing = false
		}
	}
}
