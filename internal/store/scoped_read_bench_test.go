package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/store"
	"github.com/paotui/paotui/internal/store/storetest"
)

// Target: a tenant-scoped read costs at most 1.2x the same read without scoping.
//
// The read is one settings row by key and one users row by id, through gorm. The baseline is
// the same read in a plain gorm transaction on the schema-qualified table (what the read would
// cost if scoping were free); scoped is the read through InTenant on the unqualified table;
// bare is the qualified read with no transaction at all, for information (one round trip
// instead of three).

const benchSchema = "tenant_1"

type scopedReadEnv struct {
	db     *store.DB
	userID string
}

func newScopedReadEnv(b *testing.B) *scopedReadEnv {
	b.Helper()
	db, d := storetest.New(b)
	migrateAll(b, d.URL, nil, []string{benchSchema})
	seedRows(b, db, []string{benchSchema})
	e := &scopedReadEnv{db: db}
	if err := db.Gorm.Raw(`SELECT id::text FROM ` + benchSchema + `.users LIMIT 1`).Scan(&e.userID).Error; err != nil || e.userID == "" {
		b.Fatalf("user id: %q %v", e.userID, err)
	}
	return e
}

type benchUser struct {
	ID        string
	PhoneEnc  []byte
	PhoneBidx []byte
	NameEnc   []byte
	Status    string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// readSetting and readUser are the reads measured; table is "settings" / "users", qualified
// or not.
func readSetting(tx *gorm.DB, table string) error {
	var s setting
	return tx.Table(table).Where("key = ?", "branding").Take(&s).Error
}

func readUser(tx *gorm.DB, table, id string) error {
	var u benchUser
	return tx.Table(table).Where("id = ?", id).Take(&u).Error
}

// The three ways of running one read of each kind.
func (e *scopedReadEnv) variants(ctx context.Context) map[string]func() error {
	g := e.db.Gorm.WithContext(ctx)
	return map[string]func() error{
		"setting/bare": func() error { return readSetting(g, benchSchema+".settings") },
		"setting/baseline": func() error {
			return g.Transaction(func(tx *gorm.DB) error { return readSetting(tx, benchSchema+".settings") })
		},
		"setting/scoped": func() error {
			return e.db.InTenant(ctx, store.Schema(benchSchema), func(tx *gorm.DB) error { return readSetting(tx, "settings") })
		},
		"user/bare": func() error { return readUser(g, benchSchema+".users", e.userID) },
		"user/baseline": func() error {
			return g.Transaction(func(tx *gorm.DB) error { return readUser(tx, benchSchema+".users", e.userID) })
		},
		"user/scoped": func() error {
			return e.db.InTenant(ctx, store.Schema(benchSchema), func(tx *gorm.DB) error { return readUser(tx, "users", e.userID) })
		},
	}
}

// BenchmarkScopedRead gives ns/op of each variant on its own (sub-benchmarks run one after
// the other, so on a busy machine compare them with BenchmarkScopedReadRatio instead).
//
//	go test -run '^$' -bench 'BenchmarkScopedRead$' ./internal/store/
func BenchmarkScopedRead(b *testing.B) {
	if testing.Short() {
		b.Skip("needs PostgreSQL")
	}
	e := newScopedReadEnv(b)
	vs := e.variants(context.Background())
	for _, name := range []string{"setting/bare", "setting/baseline", "setting/scoped", "user/bare", "user/baseline", "user/scoped"} {
		f := vs[name]
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if err := f(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkScopedReadRatio is the deliverable for the 1.2x target: baseline and scoped reads
// interleaved in the same loop (ABBA order, so drift from other load on the machine hits both
// alike), each timed on its own. It reports the mean and median of each and the ratios
// scoped/baseline; the bare read is timed the same way for information.
//
//	go test -run '^$' -bench 'BenchmarkScopedReadRatio' -benchtime 3000x ./internal/store/
func BenchmarkScopedReadRatio(b *testing.B) {
	if testing.Short() {
		b.Skip("needs PostgreSQL")
	}
	e := newScopedReadEnv(b)
	vs := e.variants(context.Background())
	for _, kind := range []string{"setting", "user"} {
		b.Run(kind, func(b *testing.B) {
			bare, base, scoped := vs[kind+"/bare"], vs[kind+"/baseline"], vs[kind+"/scoped"]
			// Warm the pool and the backend caches.
			for range 200 {
				if err := base(); err != nil {
					b.Fatal(err)
				}
				if err := scoped(); err != nil {
					b.Fatal(err)
				}
			}
			var tBare, tBase, tScoped []time.Duration
			timed := func(f func() error, into *[]time.Duration) {
				t0 := time.Now()
				if err := f(); err != nil {
					b.Fatal(err)
				}
				*into = append(*into, time.Since(t0))
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if i%2 == 0 {
					timed(base, &tBase)
					timed(scoped, &tScoped)
				} else {
					timed(scoped, &tScoped)
					timed(base, &tBase)
				}
				timed(bare, &tBare)
			}
			b.StopTimer()
			mean := func(d []time.Duration) float64 {
				var s time.Duration
				for _, x := range d {
					s += x
				}
				return float64(s) / float64(len(d))
			}
			median := func(d []time.Duration) float64 {
				slices.Sort(d)
				return float64(percentile(d, 0.5))
			}
			b.ReportMetric(mean(tBase), "baseline-ns/op")
			b.ReportMetric(mean(tScoped), "scoped-ns/op")
			b.ReportMetric(mean(tBare), "bare-ns/op")
			b.ReportMetric(mean(tScoped)/mean(tBase), "ratio-mean")
			b.ReportMetric(median(tScoped)/median(tBase), "ratio-median")
			b.ReportMetric(mean(tScoped)/mean(tBare), "scoped/bare")
		})
	}
}
