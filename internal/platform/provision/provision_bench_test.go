package provision_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/paotui/paotui/internal/authz"
	"github.com/paotui/paotui/internal/identity"
	"github.com/paotui/paotui/internal/jobs"
	"github.com/paotui/paotui/internal/pii"
	"github.com/paotui/paotui/internal/platform/provision"
	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/store"
	"github.com/paotui/paotui/internal/store/storetest"
)

// provisionEnv is the provisioning service wired the way internal/app wires it, on a fresh
// database and Redis database.
type provisionEnv struct {
	svc      *provision.Service
	reg      *tenancy.Registry
	migrator *store.Migrator
	db       *store.DB
	ident    *identity.Service
}

func newProvisionEnv(b *testing.B) *provisionEnv {
	b.Helper()
	ctx := context.Background()
	db, d := storetest.New(b)
	redisURL := storetest.Redis(b)
	cfg := d.Config(b, redisURL)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ropt, err := redis.ParseURL(redisURL)
	if err != nil {
		b.Fatal(err)
	}
	rdb := redis.NewClient(ropt)
	b.Cleanup(func() { _ = rdb.Close() })
	if err := rdb.Ping(ctx).Err(); err != nil {
		b.Fatal(err)
	}
	master, err := cfg.MasterKeyBytes()
	if err != nil {
		b.Fatal(err)
	}
	migrator := store.NewMigrator(cfg.Database.URL.Reveal(), cfg.Migrate.Concurrency, log)
	reg := tenancy.NewRegistry(db.Gorm, cfg.Tenancy.Reserved())
	resolver := tenancy.NewResolver(reg, rdb, cfg.BaseDomain, cfg.Tenancy.CacheTTL, log)
	keys, err := pii.NewKeyring(db.Gorm, master)
	if err != nil {
		b.Fatal(err)
	}
	az, err := authz.New(db, rdb, log)
	if err != nil {
		b.Fatal(err)
	}
	ident, err := identity.NewService(db, rdb, keys, identity.NewLogSender(log), cfg.Auth, master, log)
	if err != nil {
		b.Fatal(err)
	}
	svc := provision.New(db, reg, resolver, migrator, keys, jobs.NewOutbox(), ident, az, log)
	return &provisionEnv{svc: svc, reg: reg, migrator: migrator, db: db, ident: ident}
}

// BenchmarkProvision — target: provisioning at most 0.5 s per tenant.
//
// Each iteration registers a tenant and provisions it inline through the real service
// (Register + Provision: registry row and keysets, schema + tenant migrations, blueprint,
// owner account and roles, status change), one tenant after another as the CLI and the
// provisioning job do. ms/tenant is the whole; register-ms and provision-ms its two calls,
// p50/max over the run. The "demo" blueprint adds 8 accounts, 4 of them with argon2id
// passwords.
//
//	go test -run '^$' -bench BenchmarkProvision -benchtime 20x ./internal/platform/provision/
func BenchmarkProvision(b *testing.B) {
	if testing.Short() {
		b.Skip("needs PostgreSQL and Redis")
	}
	e := newProvisionEnv(b)
	ctx := context.Background()
	seq := 0
	for _, bp := range []string{"default", "demo"} {
		b.Run(bp, func(b *testing.B) {
			var reg, prov, total []time.Duration
			for b.Loop() {
				seq++
				t0 := time.Now()
				t, err := e.svc.Register(ctx, provision.Request{
					Slug: fmt.Sprintf("bench-%s-%d", bp, seq), Name: "Bench 跑腿", OwnerName: "店长",
					OwnerPhone: fmt.Sprintf("138%08d", seq), Blueprint: bp,
				})
				if err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if err := e.svc.Provision(ctx, t.ID); err != nil {
					b.Fatal(err)
				}
				t2 := time.Now()
				reg, prov, total = append(reg, t1.Sub(t0)), append(prov, t2.Sub(t1)), append(total, t2.Sub(t0))
			}
			b.StopTimer()
			got, err := e.reg.ByID(ctx, lastID(b, e))
			if err != nil || got.Status != tenancy.StatusActive {
				b.Fatalf("last tenant: %+v, %v", got, err)
			}
			b.ReportMetric(msOf(mean(total)), "ms/tenant")
			b.ReportMetric(msOf(p(reg, 0.5)), "register-p50-ms")
			b.ReportMetric(msOf(p(prov, 0.5)), "provision-p50-ms")
			b.ReportMetric(msOf(p(total, 1)), "max-ms")
		})
	}
}

// BenchmarkProvisionSteps times, on their own, the parts of provisioning that are plain
// calls anyone can make, to show where BenchmarkProvision's time goes: the tenant migrations
// on a fresh schema (Migrator.UpTenant, as Provision calls it) and one argon2id password
// (SetPassword, four of which the demo blueprint sets).
//
//	go test -run '^$' -bench BenchmarkProvisionSteps -benchtime 20x ./internal/platform/provision/
func BenchmarkProvisionSteps(b *testing.B) {
	if testing.Short() {
		b.Skip("needs PostgreSQL and Redis")
	}
	e := newProvisionEnv(b)
	ctx := context.Background()
	b.Run("schema_migrations", func(b *testing.B) {
		i := 0
		for b.Loop() {
			i++
			if _, _, err := e.migrator.UpTenant(ctx, fmt.Sprintf("tenant_steps%d", i)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("set_password", func(b *testing.B) {
		t, err := e.svc.Register(ctx, provision.Request{Slug: "steps-pw", Name: "Steps", OwnerPhone: "13800000000"})
		if err != nil {
			b.Fatal(err)
		}
		if err := e.svc.Provision(ctx, t.ID); err != nil {
			b.Fatal(err)
		}
		var uid string
		if err := e.db.SQL.QueryRow(`SELECT id::text FROM ` + t.Schema + `.users LIMIT 1`).Scan(&uid); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if err := e.ident.SetPassword(ctx, t, uid, "correct horse battery staple"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("create_schema_only", func(b *testing.B) {
		i := 0
		for b.Loop() {
			i++
			if _, err := e.db.SQL.ExecContext(ctx, fmt.Sprintf("CREATE SCHEMA tenant_bare%d", i)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func lastID(b *testing.B, e *provisionEnv) int64 {
	var id int64
	if err := e.db.SQL.QueryRow(`SELECT max(id) FROM public.tenants`).Scan(&id); err != nil {
		b.Fatal(err)
	}
	return id
}

func mean(d []time.Duration) time.Duration {
	var s time.Duration
	for _, x := range d {
		s += x
	}
	return s / time.Duration(len(d))
}

func p(d []time.Duration, q float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.5) - 1
	return s[max(0, min(i, len(s)-1))]
}

func msOf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
