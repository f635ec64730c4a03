package jobs

import (
	"context"
	"testing"
	"time"

	"github.com/hibiken/asynq"
)

type runningScheduler struct {
	s    *Scheduler
	stop context.CancelFunc
	done chan struct{}
}

func (e *env) runScheduler(t *testing.T, tune func(*Scheduler)) *runningScheduler {
	t.Helper()
	s := NewScheduler(e.redis(t), e.redisOpt, e.log)
	if tune != nil {
		tune(s)
	}
	task, err := NewTask("orders:sweep", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Register("@every 1s", task); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &runningScheduler{s: s, stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		if err := s.Run(ctx); err != nil {
			t.Errorf("scheduler: %v", err)
		}
	}()
	t.Cleanup(func() { r.stop(); <-r.done })
	return r
}

func leaders(rs ...*runningScheduler) (n int, leader *runningScheduler) {
	for _, r := range rs {
		if r.s.IsLeader() {
			n++
			leader = r
		}
	}
	return n, leader
}

// Two schedulers share one Redis: exactly one leads and enqueues, and when it stops the other
// takes over within seconds.
func TestSchedulerHasOneLeader(t *testing.T) {
	t.Parallel()
	e := redisEnv(t)
	one, two := e.runScheduler(t, nil), e.runScheduler(t, nil)

	eventually(t, 5*time.Second, "a leader", func() bool { n, _ := leaders(one, two); return n == 1 })
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if n, _ := leaders(one, two); n != 1 {
			t.Fatalf("%d leaders", n)
		}
	}
	eventually(t, 5*time.Second, "a periodic task enqueued", func() bool {
		tasks, _ := e.insp.ListPendingTasks(QueueDefault)
		return len(tasks) > 0 && tasks[0].Type == "orders:sweep"
	})

	_, first := leaders(one, two)
	first.stop()
	<-first.done
	if first.s.IsLeader() {
		t.Fatal("stopped scheduler still reports leadership")
	}
	took := time.Now()
	eventually(t, 5*time.Second, "the other to take over", func() bool {
		n, l := leaders(one, two)
		return n == 1 && l != first
	})
	t.Logf("takeover in %v", time.Since(took))
	if err := e.redis(t).Get(context.Background(), leaderKey).Err(); err != nil {
		t.Fatalf("leader key after takeover: %v", err)
	}
}

// A leader that can no longer renew its lock (someone else holds it) stops scheduling.
func TestSchedulerStepsDownWhenLockIsLost(t *testing.T) {
	t.Parallel()
	e := redisEnv(t)
	fast := func(s *Scheduler) {
		s.ttl, s.renew, s.interval = 2*time.Second, 100*time.Millisecond, 100*time.Millisecond
	}
	r := e.runScheduler(t, fast)
	eventually(t, 5*time.Second, "leadership", r.s.IsLeader)

	rdb := e.redis(t)
	if err := rdb.Set(context.Background(), leaderKey, "another-replica", 0).Err(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Second, "step down", func() bool { return !r.s.IsLeader() })
	// It must not steal the lock back or release the other's lock.
	time.Sleep(300 * time.Millisecond)
	if r.s.IsLeader() {
		t.Fatal("scheduler retook a lock held by another replica")
	}
	if v, err := rdb.Get(context.Background(), leaderKey).Result(); err != nil || v != "another-replica" {
		t.Fatalf("lock = %q, %v; want the other replica's", v, err)
	}
	if err := rdb.Del(context.Background(), leaderKey).Err(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Second, "leadership again", r.s.IsLeader)
}

func TestSchedulerRegisterRejectsBadSpec(t *testing.T) {
	t.Parallel()
	e := redisEnv(t)
	s := NewScheduler(e.redis(t), e.redisOpt, e.log)
	task, err := NewTask("orders:sweep", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		spec string
		task *asynq.Task
		ok   bool
	}{
		{"hourly", "@hourly", task, true},
		{"five fields", "*/5 * * * *", task, true},
		{"garbage", "every tuesday", task, false},
		{"bad task type", "@hourly", asynq.NewTask("Sweep", nil), false},
		{"nil task", "@hourly", nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.Register(tc.spec, tc.task); (err == nil) != tc.ok {
				t.Fatalf("Register(%q) = %v, want ok=%v", tc.spec, err, tc.ok)
			}
		})
	}
}
