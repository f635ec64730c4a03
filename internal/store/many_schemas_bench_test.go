package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/store"
	"github.com/paotui/paotui/internal/store/storetest"
)

// BenchmarkManySchemas runs on one database with 1,000 migrated tenant schemas (a few rows
// each), made once for both sub-benchmarks:
//
//   - read_p99 — target: read p99 with 1,000 tenant schemas at most 1.2x the p99 with 10
//     (same query, same run, same pool).
//   - backend_memory — target: connection memory stays bounded with many schemas because
//     connections are recycled (database.conn_max_lifetime).
//
// Each sub-benchmark does a fixed amount of work per iteration; run with -benchtime 1x:
//
//	go test -run '^$' -bench BenchmarkManySchemas -benchtime 1x ./internal/store/
func BenchmarkManySchemas(b *testing.B) {
	if testing.Short() {
		b.Skip("creates 1,000 schemas")
	}
	const n = 1000
	db, d := storetest.New(b)
	schemas := schemaNames("r", n)
	took := makeSchemas(b, db, d.URL, schemas)
	seedRows(b, db, schemas)
	b.Logf("made %d schemas in %v", n, took.Round(time.Millisecond))

	b.Run("read_p99", func(b *testing.B) { benchReadP99(b, db, schemas) })
	b.Run("backend_memory", func(b *testing.B) { benchBackendMemory(b, d, schemas) })
}

// benchReadP99 times single InTenant reads (one settings row by key, through gorm) through
// the application's pool (config defaults: 20 open, 10 idle, 30 min lifetime), from 1, 4 and
// 8 concurrent workers (on 2 cores, 4 and 8 saturate the CPU). Phases alternate between
// reads spread over the first 10 schemas and reads spread over all 1,000, four rounds in ABBA
// order, so load from elsewhere on the machine hits both alike.
//
// Before measuring, each of the 8 pooled connections reads every schema once: the first read
// of a schema on a backend loads that schema's tables into the backend's catalog caches, and
// that cold read is reported on its own (cold-p50/p99). The 10/1000 figures are the steady
// state between connection recycles.
func benchReadP99(b *testing.B, db *store.DB, schemas []string) {
	const (
		maxWorkers = 8
		rounds     = 4
		perPhase   = 3000 // reads per phase and round, split among the workers
	)
	ctx := context.Background()

	// Warm-up on pinned connections, timing the cold first reads.
	conns := make([]*sql.Conn, maxWorkers)
	for w := range conns {
		c, err := db.SQL.Conn(ctx)
		if err != nil {
			b.Fatal(err)
		}
		conns[w] = c
	}
	var mu sync.Mutex
	var cold []time.Duration
	var wg sync.WaitGroup
	for w, c := range conns {
		wg.Go(func() {
			var local []time.Duration
			order := slices.Clone(schemas)
			rand.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
			for _, s := range order {
				t0 := time.Now()
				if err := coldRead(ctx, c, s); err != nil {
					b.Errorf("worker %d: %v", w, err)
					return
				}
				local = append(local, time.Since(t0))
			}
			mu.Lock()
			cold = append(cold, local...)
			mu.Unlock()
		})
	}
	wg.Wait()
	for _, c := range conns {
		_ = c.Close()
	}
	slices.Sort(cold)
	b.Logf("cold first reads (%d backends x %d schemas): p50 %.3f ms, p99 %.3f ms",
		maxWorkers, len(schemas), ms(percentile(cold, 0.5)), ms(percentile(cold, 0.99)))

	read := func(s string) (time.Duration, error) {
		t0 := time.Now()
		err := db.InTenant(ctx, store.Schema(s), func(tx *gorm.DB) error { return readSetting(tx, "settings") })
		return time.Since(t0), err
	}
	for _, workers := range []int{1, 4, maxWorkers} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				statsBefore := db.SQL.Stats()
				lat := map[int][]time.Duration{}
				for r := 0; r < rounds; r++ {
					for _, spread := range []int{10, len(schemas)} {
						if r%2 == 1 { // ABBA
							spread = 10 + len(schemas) - spread
						}
						var wg sync.WaitGroup
						for w := 0; w < workers; w++ {
							wg.Go(func() {
								local := make([]time.Duration, 0, perPhase/workers)
								for q := 0; q < perPhase/workers; q++ {
									d, err := read(schemas[rand.IntN(spread)])
									if err != nil {
										b.Error(err)
										return
									}
									local = append(local, d)
								}
								mu.Lock()
								lat[spread] = append(lat[spread], local...)
								mu.Unlock()
							})
						}
						wg.Wait()
					}
				}
				b.StopTimer()
				st := db.SQL.Stats()
				if closed := st.MaxLifetimeClosed + st.MaxIdleClosed + st.MaxIdleTimeClosed -
					statsBefore.MaxLifetimeClosed - statsBefore.MaxIdleClosed - statsBefore.MaxIdleTimeClosed; closed > 0 {
					b.Logf("note: %d connections were closed during the run (cold backends inflate the 1,000 p99)", closed)
				}
				l10, l1000 := lat[10], lat[len(schemas)]
				slices.Sort(l10)
				slices.Sort(l1000)
				b.ReportMetric(ms(percentile(l10, 0.50)), "p50-10-ms")
				b.ReportMetric(ms(percentile(l10, 0.99)), "p99-10-ms")
				b.ReportMetric(ms(percentile(l1000, 0.50)), "p50-1000-ms")
				b.ReportMetric(ms(percentile(l1000, 0.99)), "p99-1000-ms")
				b.ReportMetric(float64(percentile(l1000, 0.50))/float64(percentile(l10, 0.50)), "p50-ratio")
				b.ReportMetric(float64(meanOf(l1000))/float64(meanOf(l10)), "mean-ratio")
				b.ReportMetric(float64(percentile(l1000, 0.99))/float64(percentile(l10, 0.99)), "p99-ratio")
				b.ReportMetric(ms(percentile(cold, 0.50)), "cold-p50-ms")
				b.ReportMetric(ms(percentile(cold, 0.99)), "cold-p99-ms")
				b.Logf("%d reads over 10 schemas, %d over 1000; mean %.3f / %.3f ms; pool: max open %d, open %d",
					len(l10), len(l1000), ms(meanOf(l10)), ms(meanOf(l1000)), st.MaxOpenConnections, st.OpenConnections)
				b.StartTimer()
			}
		})
	}
}

func meanOf(d []time.Duration) time.Duration {
	var s time.Duration
	for _, x := range d {
		s += x
	}
	return s / time.Duration(len(d))
}

// coldRead is the same read as InTenant's, on a connection the caller pinned.
func coldRead(ctx context.Context, c *sql.Conn, schema string) error {
	if _, err := c.ExecContext(ctx, "BEGIN; SELECT set_config('search_path', '"+schema+"', true)"); err != nil {
		return err
	}
	var k, v string
	var at time.Time
	err := c.QueryRowContext(ctx, `SELECT key, value, updated_at FROM settings WHERE key = $1 LIMIT 1`, "branding").Scan(&k, &v, &at)
	if _, cerr := c.ExecContext(ctx, "COMMIT"); err == nil {
		err = cerr
	}
	return err
}

// benchBackendMemory follows one backend (a pool of one connection, so every InTenant call
// lands on it) as it serves requests in more and more schemas, reading pg_backend_memory_contexts
// on that same backend. Each "request" reads settings, users and casbin_rules, as a signed-in
// request does (tenant settings, the user, the tenant's policy). Then the connection's
// lifetime cap expires and the pool dials a new backend: its memory is back to a fresh
// backend's.
func benchBackendMemory(b *testing.B, d *storetest.Database, schemas []string) {
	ctx := context.Background()
	cfg := d.Config(b, storetest.RedisURL()).Database
	cfg.MaxOpenConns, cfg.MaxIdleConns = 1, 1
	db, err := store.Open(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()

	type sample struct {
		pid         int
		total, ccmc int64 // all contexts; CacheMemoryContext and its children (catalog caches)
	}
	measure := func() sample {
		var s sample
		err := db.SQL.QueryRowContext(ctx, `
			WITH c AS (SELECT * FROM pg_backend_memory_contexts)
			SELECT pg_backend_pid(),
			       (SELECT sum(total_bytes) FROM c),
			       (SELECT coalesce(sum(total_bytes), 0) FROM c
			         WHERE name = 'CacheMemoryContext' OR parent = 'CacheMemoryContext')`).Scan(&s.pid, &s.total, &s.ccmc)
		if err != nil {
			b.Fatal(err)
		}
		return s
	}
	request := func(schema string) {
		err := db.InTenant(ctx, store.Schema(schema), func(tx *gorm.DB) error {
			if err := readSetting(tx, "settings"); err != nil {
				return err
			}
			var u []benchUser
			if err := tx.Table("users").Limit(1).Find(&u).Error; err != nil {
				return err
			}
			var rules []map[string]any
			return tx.Raw(`SELECT ptype, v0, v1, v2, v3, v4, v5 FROM casbin_rules`).Scan(&rules).Error
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	mb := func(x int64) float64 { return float64(x) / (1 << 20) }

	for i := 0; i < b.N; i++ {
		request(schemas[0])
		start := measure()
		marks := map[int]sample{}
		for k, s := range schemas {
			request(s)
			if n := k + 1; n == 10 || n == 100 || n == len(schemas) {
				marks[n] = measure()
			}
		}
		last := marks[len(schemas)]
		if last.pid != start.pid {
			b.Fatalf("the backend changed mid-walk (pid %d -> %d)", start.pid, last.pid)
		}
		// Let the lifetime cap retire the connection, as conn_max_lifetime does in production.
		db.SQL.SetConnMaxLifetime(50 * time.Millisecond)
		time.Sleep(100 * time.Millisecond)
		request(schemas[0])
		db.SQL.SetConnMaxLifetime(time.Hour)
		after := measure()
		if after.pid == start.pid {
			b.Fatal("the connection was not recycled")
		}
		b.ReportMetric(mb(start.total), "MB-1schema")
		b.ReportMetric(mb(marks[10].total), "MB-10schemas")
		b.ReportMetric(mb(marks[100].total), "MB-100schemas")
		b.ReportMetric(mb(last.total), "MB-1000schemas")
		b.ReportMetric(mb(after.total), "MB-after-recycle")
		b.ReportMetric(float64(last.total-start.total)/float64(len(schemas)-1)/1024, "KB/schema")
		b.Logf("catalog caches (CacheMemoryContext+children): 1 schema %.1f MB, 10 %.1f, 100 %.1f, 1000 %.1f, after recycle %.1f",
			mb(start.ccmc), mb(marks[10].ccmc), mb(marks[100].ccmc), mb(last.ccmc), mb(after.ccmc))
	}
}
