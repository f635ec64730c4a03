package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync"
	"time"

	"github.com/hibiken/asynq"

	"github.com/paotui/paotui/internal/config"
	"github.com/paotui/paotui/internal/platform/tenancy"
)

var (
	// ErrTenantGone is returned (wrapped with asynq.SkipRetry) for a task whose tenant is
	// deleted or unknown: its work will never be possible again, so it is archived, not retried.
	// Suspended tenants' tasks still run: their open orders must still expire and settle.
	ErrTenantGone = errors.New("tenant is deleted or unknown")
	// ErrTenantBusy is returned when the tenant already runs its cap of tasks on this worker.
	// The task goes back to Redis for a short while; it does not count as a failed attempt.
	ErrTenantBusy = errors.New("tenant is at its concurrency cap")
)

const (
	// maxBackoff caps the retry delay of failing tasks.
	maxBackoff = 10 * time.Minute
	// busyWait is how long a task waits for its tenant's semaphore before giving its worker
	// back and being retried later.
	busyWait = time.Second
	// busyDelay is the base delay before a task that met a busy tenant is tried again.
	busyDelay = time.Second
	// delayedCheck is how often scheduled and retrying tasks are moved to pending. asynq's 5s
	// default would add up to 5s to every busy-tenant retry and ProcessAt.
	delayedCheck = time.Second
)

// TenantLoader finds a tenant by registry id; tenancy.Registry implements it. It returns an
// error wrapping tenancy.ErrNotFound when there is none.
type TenantLoader interface {
	ByID(ctx context.Context, id int64) (*tenancy.Tenant, error)
}

// Server runs task handlers with each task's tenant in ctx, on the fixed queues critical (6),
// default (3) and low (1).
type Server struct {
	redisOpt asynq.RedisConnOpt
	cfg      config.Jobs
	tenants  TenantLoader
	log      *slog.Logger
	sems     *semaphores

	// Knobs tests shorten; production uses the constants above.
	backoff  func(n int) time.Duration
	busyWait time.Duration
	tune     func(*asynq.Config)

	mu       sync.Mutex
	handlers map[string]asynq.HandlerFunc
	stop     chan struct{}
	done     chan struct{}
}

// NewServer returns a server that takes tasks from redisOpt, cfg.Concurrency at a time and at
// most cfg.PerTenantConcurrency per tenant. Register handlers with Handle before Run.
func NewServer(redisOpt asynq.RedisConnOpt, cfg config.Jobs, tenants TenantLoader, log *slog.Logger) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{
		redisOpt: redisOpt,
		cfg:      cfg,
		tenants:  tenants,
		log:      log,
		handlers: map[string]asynq.HandlerFunc{},
		sems:     newSemaphores(max(cfg.PerTenantConcurrency, 1)),
		backoff:  Backoff,
		busyWait: busyWait,
		stop:     make(chan struct{}),
	}
}

// Handle registers h for exactly taskType (asynq's own ServeMux would also route any type
// that merely starts with it). h runs with the task's tenant in ctx (tenancy.From), or without
// one for platform tasks (tenant id 0). Returning an error wrapping asynq.SkipRetry archives
// the task at once; any other error retries it with exponential backoff. Handle panics on an
// invalid or duplicate type, a programming error found at start.
func (s *Server) Handle(taskType string, h asynq.HandlerFunc) {
	if err := validType(taskType); err != nil {
		panic(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.handlers[taskType]; dup {
		panic(fmt.Sprintf("jobs: handler for %q registered twice", taskType))
	}
	s.handlers[taskType] = s.scoped(h)
}

// ProcessTask dispatches t to its handler. A type with no handler is retried rather than
// archived: during a rolling deploy an older worker may take a task only newer ones know.
func (s *Server) ProcessTask(ctx context.Context, t *asynq.Task) error {
	s.mu.Lock()
	h, ok := s.handlers[t.Type()]
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w %q", asynq.ErrHandlerNotFound, t.Type())
	}
	return h(ctx, t)
}

// Run processes tasks until ctx ends or Shutdown is called, then waits for running handlers
// (up to asynq's shutdown timeout; unfinished tasks go back to Redis). It returns an error only
// when the server cannot start.
func (s *Server) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.done != nil {
		s.mu.Unlock()
		return errors.New("jobs: server already ran")
	}
	done := make(chan struct{})
	s.done = done
	s.mu.Unlock()
	defer close(done)

	srv := asynq.NewServer(s.redisOpt, s.asynqConfig())
	if err := srv.Start(s); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	select {
	case <-ctx.Done():
	case <-s.stop:
	}
	srv.Shutdown()
	return nil
}

// Shutdown stops a running server and waits until Run has returned.
func (s *Server) Shutdown() {
	s.mu.Lock()
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	done := s.done
	s.mu.Unlock()
	if done != nil {
		<-done
	}
}

func (s *Server) asynqConfig() asynq.Config {
	c := asynq.Config{
		Concurrency: s.cfg.Concurrency,
		Queues:      map[string]int{QueueCritical: 6, QueueDefault: 3, QueueLow: 1},
		RetryDelayFunc: func(n int, err error, _ *asynq.Task) time.Duration {
			if errors.Is(err, ErrTenantBusy) {
				return busyDelay + rand.N(busyDelay)
			}
			return s.backoff(n)
		},
		// A busy tenant is not the task's fault: its attempt is not counted and the queue's
		// failure statistics are not skewed.
		IsFailure:                func(err error) bool { return !errors.Is(err, ErrTenantBusy) },
		ErrorHandler:             asynq.ErrorHandlerFunc(s.reportError),
		Logger:                   asynqLogger{s.log},
		DelayedTaskCheckInterval: delayedCheck,
		TaskCheckInterval:        s.cfg.TaskCheckInterval,
	}
	if s.tune != nil {
		s.tune(&c)
	}
	return c
}

// Backoff is the delay before retry n+1 of a failing task: 2^n seconds capped at 10 minutes,
// with equal jitter so tasks that failed together (a provider outage) do not retry together.
func Backoff(n int) time.Duration {
	d := maxBackoff
	if n < 20 {
		d = min(time.Duration(1<<n)*time.Second, maxBackoff)
	}
	return d/2 + rand.N(d/2+1)
}

// reportError logs a failed task by type, id, tenant and attempt. The payload is never logged:
// it is ids only, but logs outlive the retention of the data they point to.
func (s *Server) reportError(ctx context.Context, t *asynq.Task, err error) {
	id, _ := asynq.GetTaskID(ctx)
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, _ := asynq.GetMaxRetry(ctx)
	queue, _ := asynq.GetQueueName(ctx)
	var tenant int64
	if env, derr := decodeEnvelope(t); derr == nil {
		tenant = env.TenantID
	}
	attrs := []any{"type", t.Type(), "id", id, "queue", queue, "tenant", tenant,
		"retried", retried, "maxRetry", maxRetry, "err", err}
	switch {
	case errors.Is(err, ErrTenantBusy):
		s.log.Debug("task postponed: tenant busy", attrs...)
	case errors.Is(err, asynq.SkipRetry) || retried >= maxRetry:
		s.log.Error("task failed and was archived", attrs...)
	default:
		s.log.Warn("task failed; will retry", attrs...)
	}
}

// scoped resolves the task's tenant into ctx and holds one of the tenant's slots while h runs.
func (s *Server) scoped(h asynq.HandlerFunc) asynq.HandlerFunc {
	return func(ctx context.Context, t *asynq.Task) error {
		env, err := decodeEnvelope(t)
		if err != nil {
			return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
		}
		if env.TenantID == 0 {
			return h(ctx, t)
		}
		tn, err := s.tenants.ByID(ctx, env.TenantID)
		switch {
		case errors.Is(err, tenancy.ErrNotFound):
			return fmt.Errorf("tenant %d: %w: %w", env.TenantID, ErrTenantGone, asynq.SkipRetry)
		case err != nil:
			return fmt.Errorf("load tenant %d: %w", env.TenantID, err)
		case tn.Status == tenancy.StatusDeleted:
			return fmt.Errorf("tenant %d: %w: %w", env.TenantID, ErrTenantGone, asynq.SkipRetry)
		}
		release, err := s.acquire(ctx, env.TenantID)
		if err != nil {
			return err
		}
		defer release()
		return h(tenancy.WithTenant(ctx, tn), t)
	}
}

// acquire takes a slot of the tenant's semaphore. Rather than park a worker behind a busy
// tenant (starving the others), it waits at most busyWait and then returns ErrTenantBusy so the
// task is retried shortly. On the task's last allowed attempt it waits for as long as ctx
// allows instead: asynq archives a task that fails its last attempt, even with an error that
// does not count as a failure.
func (s *Server) acquire(ctx context.Context, tenant int64) (release func(), err error) {
	sem := s.sems.of(tenant)
	select {
	case sem <- struct{}{}:
		return func() { <-sem }, nil
	default:
	}
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, ok := asynq.GetMaxRetry(ctx)
	var timeout <-chan time.Time
	if !ok || retried < maxRetry {
		timer := time.NewTimer(s.busyWait)
		defer timer.Stop()
		timeout = timer.C
	}
	select {
	case sem <- struct{}{}:
		return func() { <-sem }, nil
	case <-timeout:
		return nil, fmt.Errorf("tenant %d: %w", tenant, ErrTenantBusy)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// semaphores holds one counting semaphore per tenant, created on first use. The cap is per
// worker process: with N replicas a tenant runs at most N×cap tasks at once.
type semaphores struct {
	size int
	mu   sync.Mutex
	m    map[int64]chan struct{}
}

func newSemaphores(size int) *semaphores {
	return &semaphores{size: size, m: map[int64]chan struct{}{}}
}

func (s *semaphores) of(tenant int64) chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.m[tenant]
	if !ok {
		c = make(chan struct{}, s.size)
		s.m[tenant] = c
	}
	return c
}

// asynqLogger sends asynq's own logs to slog.
type asynqLogger struct{ l *slog.Logger }

func (a asynqLogger) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Info(args ...any)  { a.l.Info(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Error(args ...any) { a.l.Error(fmt.Sprint(args...), "component", "asynq") }

// Fatal honours asynq's contract (log, then exit); asynq does not call it in normal operation.
func (a asynqLogger) Fatal(args ...any) {
	a.l.Error(fmt.Sprint(args...), "component", "asynq")
	os.Exit(1)
}
