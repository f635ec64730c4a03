package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

const (
	leaderKey = "paotui:scheduler:leader"
	// leaderTTL is how long a crashed leader blocks a successor.
	leaderTTL = 15 * time.Second
	// leaderRenew is how often the leader extends its lock; two renewals may fail before the
	// lock could expire under a live leader.
	leaderRenew = 5 * time.Second
	// leaderRetry is how often a follower tries to take the lock.
	leaderRetry = time.Second
)

// renewScript extends the lock only while it still holds our token, so a leader that lost the
// lock (it expired and another took it) can never extend the other's.
var renewScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
	return redis.call("PEXPIRE", KEYS[1], ARGV[2])
end
return 0`)

// releaseScript deletes the lock only if it is still ours.
var releaseScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
	return redis.call("DEL", KEYS[1])
end
return 0`)

// Scheduler enqueues periodic tasks from exactly one replica: the one holding a Redis lock.
// Every replica runs one; only the leader runs an asynq scheduler, and it stops that scheduler
// the moment it cannot renew the lock.
//
// Register one fan-out task per period (which then enqueues per-tenant tasks), never an entry
// per tenant; see the package documentation.
type Scheduler struct {
	rdb      redis.UniversalClient
	redisOpt asynq.RedisConnOpt
	log      *slog.Logger
	token    string

	key                  string
	ttl, renew, interval time.Duration

	mu      sync.Mutex
	entries []entry
	leader  atomic.Bool
}

type entry struct {
	cronspec string
	task     *asynq.Task
	opts     []asynq.Option
}

// NewScheduler elects its leader through rdb; the leader enqueues through its own connection
// made from redisOpt.
func NewScheduler(rdb redis.UniversalClient, redisOpt asynq.RedisConnOpt, log *slog.Logger) *Scheduler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	host, _ := os.Hostname()
	return &Scheduler{
		rdb:      rdb,
		redisOpt: redisOpt,
		log:      log,
		token:    fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b)),
		key:      leaderKey,
		ttl:      leaderTTL,
		renew:    leaderRenew,
		interval: leaderRetry,
	}
}

// Register adds a periodic task. cronspec is a standard five-field spec or a descriptor such
// as "@hourly" or "@every 10m", in UTC. Register before Run; it returns an error for a spec
// that does not parse.
func (s *Scheduler) Register(cronspec string, task *asynq.Task, opts ...asynq.Option) error {
	if task == nil {
		return errors.New("scheduler: nil task")
	}
	if err := validType(task.Type()); err != nil {
		return err
	}
	// Parse the spec with asynq's own parser now rather than when this replica first leads.
	probe := asynq.NewSchedulerFromRedisClient(s.rdb, nil)
	if _, err := probe.Register(cronspec, task, opts...); err != nil {
		return fmt.Errorf("scheduler: %s %q: %w", task.Type(), cronspec, err)
	}
	s.mu.Lock()
	s.entries = append(s.entries, entry{cronspec, task, opts})
	s.mu.Unlock()
	return nil
}

// IsLeader reports whether this replica holds the lock and runs the periodic tasks.
func (s *Scheduler) IsLeader() bool { return s.leader.Load() }

// Run competes for leadership until ctx ends, then stops scheduling and releases the lock so
// another replica takes over at once. It returns nil when ctx ends.
func (s *Scheduler) Run(ctx context.Context) error {
	t := time.NewTimer(0)
	defer t.Stop()
	failing := false // log a Redis outage once, not every second
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		ok, err := s.rdb.SetNX(ctx, s.key, s.token, s.ttl).Result()
		switch {
		case err != nil && !failing && ctx.Err() == nil:
			s.log.Warn("scheduler: cannot reach the leader lock", "err", err)
			failing = true
		case err == nil && failing:
			s.log.Info("scheduler: leader lock reachable again")
			failing = false
		}
		if ok {
			s.lead(ctx)
		}
		t.Reset(s.interval)
	}
}

// lead runs the asynq scheduler while the lock is ours and ctx lasts.
func (s *Scheduler) lead(ctx context.Context) {
	defer s.release()
	sched := asynq.NewScheduler(s.redisOpt, &asynq.SchedulerOpts{
		Logger: asynqLogger{s.log},
		PostEnqueueFunc: func(info *asynq.TaskInfo, err error) {
			if err != nil {
				s.log.Error("scheduler: enqueue periodic task failed", "err", err)
			}
		},
	})
	s.mu.Lock()
	entries := append([]entry(nil), s.entries...)
	s.mu.Unlock()
	for _, e := range entries {
		if _, err := sched.Register(e.cronspec, e.task, e.opts...); err != nil {
			s.log.Error("scheduler: register periodic task", "type", e.task.Type(), "err", err)
		}
	}
	if err := sched.Start(); err != nil {
		s.log.Error("scheduler: start", "err", err)
		return
	}
	s.leader.Store(true)
	s.log.Info("scheduler: leading", "entries", len(entries))
	defer func() {
		// Stop enqueueing before the lock is released, so two leaders never overlap.
		s.leader.Store(false)
		sched.Shutdown()
	}()

	tick := time.NewTicker(s.renew)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		// Any doubt ends the term: a leader that cannot prove it still holds the lock steps down
		// before the lock could pass to another replica.
		rctx, cancel := context.WithTimeout(ctx, s.renew/2)
		n, err := renewScript.Run(rctx, s.rdb, []string{s.key}, s.token, s.ttl.Milliseconds()).Int()
		cancel()
		if err != nil || n == 0 {
			if ctx.Err() == nil {
				s.log.Warn("scheduler: lost leadership", "err", err)
			}
			return
		}
	}
}

func (s *Scheduler) release() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := releaseScript.Run(ctx, s.rdb, []string{s.key}, s.token).Err(); err != nil {
		s.log.Warn("scheduler: release leader lock", "err", err)
	}
}
