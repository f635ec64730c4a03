package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/config"
	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/store"
	"github.com/paotui/paotui/internal/store/storetest"
)

// The registry is the loader the app wires in.
var _ TenantLoader = (*tenancy.Registry)(nil)

// env is one test's PostgreSQL database and Redis database.
type env struct {
	db       *store.DB
	dbURL    string
	redisURL string
	redisOpt asynq.RedisConnOpt
	client   *asynq.Client
	insp     *asynq.Inspector
	log      *slog.Logger
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db, d := storetest.New(t)
	e := redisEnv(t)
	e.db, e.dbURL = db, d.URL
	return e
}

func redisEnv(t *testing.T) *env {
	t.Helper()
	u := storetest.Redis(t)
	opt, err := asynq.ParseRedisURI(u)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{redisURL: u, redisOpt: opt, client: asynq.NewClient(opt), insp: asynq.NewInspector(opt), log: testLog()}
	t.Cleanup(func() { _ = e.client.Close(); _ = e.insp.Close() })
	return e
}

func (e *env) redis(t *testing.T) redis.UniversalClient {
	t.Helper()
	o, err := redis.ParseURL(e.redisURL)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(o)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// testLog discards logs unless PAOTUI_TEST_LOG is set: asynq goroutines may still log while a
// test is being torn down, when t.Log is no longer allowed.
func testLog() *slog.Logger {
	if os.Getenv("PAOTUI_TEST_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func testCfg() config.Jobs {
	return config.Jobs{
		Concurrency:          8,
		PerTenantConcurrency: 2,
		OutboxPollInterval:   200 * time.Millisecond,
		OutboxRetention:      24 * time.Hour,
		MaxRetry:             3,
	}
}

// addTenant inserts a registry row and returns the tenant.
func (e *env) addTenant(t *testing.T, slug string, status tenancy.Status) *tenancy.Tenant {
	t.Helper()
	tn := &tenancy.Tenant{Slug: slug, Name: slug, Schema: "tenant_" + strings.ReplaceAll(slug, "-", "_"), Status: status}
	if err := e.db.Gorm.Create(tn).Error; err != nil {
		t.Fatal(err)
	}
	return tn
}

// loader reads public.tenants directly, so these tests do not depend on the registry's code.
type loader struct{ db *gorm.DB }

func (l loader) ByID(ctx context.Context, id int64) (*tenancy.Tenant, error) {
	var tn tenancy.Tenant
	err := l.db.WithContext(ctx).First(&tn, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fmt.Errorf("tenant %d: %w", id, tenancy.ErrNotFound)
	}
	return &tn, err
}

// newServer returns a server tuned to react in milliseconds rather than seconds.
func (e *env) newServer(t *testing.T, cfg config.Jobs) *Server {
	t.Helper()
	var tl TenantLoader = loader{}
	if e.db != nil {
		tl = loader{e.db.Gorm}
	}
	s := NewServer(e.redisOpt, cfg, tl, e.log)
	s.backoff = func(int) time.Duration { return 50 * time.Millisecond }
	s.tune = func(c *asynq.Config) {
		c.TaskCheckInterval = 50 * time.Millisecond
		c.DelayedTaskCheckInterval = 100 * time.Millisecond
		c.ShutdownTimeout = 2 * time.Second
	}
	return s
}

// start runs s until the test ends.
func start(t *testing.T, s *Server) {
	t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- s.Run(context.Background()) }()
	t.Cleanup(func() {
		s.Shutdown()
		if err := <-errc; err != nil {
			t.Errorf("server: %v", err)
		}
	})
}

// eventually polls cond until it holds or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type outboxState struct {
	ID        int64
	RelayedAt *time.Time
	Attempts  int
	LastError string
}

func (e *env) outboxRows(t *testing.T) []outboxState {
	t.Helper()
	var rows []outboxState
	if err := e.db.Gorm.Raw(`SELECT id, relayed_at, attempts, last_error FROM public.outbox ORDER BY id`).Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	return rows
}
