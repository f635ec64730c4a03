package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/store"
	"github.com/paotui/paotui/internal/store/storetest"
)

// A rolling migration is half-way through: half of the tenant schemas have a new column on
// settings, the other half do not yet, and readers keep running `SELECT *` in every schema
// through one shared pool while the runner moves tenants over. With statements cached on
// pooled connections this fails with "cached plan must not change result type" (a statement
// prepared in a schema of one shape is reused in a schema of the other); store.Open's pool
// must not fail a single read.
func TestNoCachedPlanErrorsMidMigration(t *testing.T) {
	if testing.Short() {
		t.Skip("migrates 50 schemas")
	}
	db, d := storetest.New(t)
	res := readDuringRollingMigration(t, db, d.URL, "c", 50)
	t.Logf("%d reads (%d during the migration): %d saw the old shape, %d the new one, %d errors",
		res.reads, res.duringMigration, res.oldShape, res.newShape, len(res.errs))
	if len(res.errs) > 0 {
		t.Fatalf("%d of %d reads failed, first: %v", len(res.errs), res.reads, res.errs[0])
	}
	// The test proves something only if readers met both shapes on the same pool and kept
	// reading while schemas were changing.
	if res.oldShape == 0 || res.newShape == 0 || res.duringMigration == 0 {
		t.Fatalf("scenario did not happen: old=%d new=%d during=%d", res.oldShape, res.newShape, res.duringMigration)
	}
}

type rollingResult struct {
	reads, duringMigration, oldShape, newShape int64
	errs                                       []error
}

// readDuringRollingMigration makes n schemas (prefix p), then runs four readers doing
// `SELECT * FROM settings` through db.InTenant in all n schemas in random order while the
// real runner applies a new ADD COLUMN migration to every other schema. Readers stop after
// one more full pass over all schemas once the migration is done. Every read checks that it
// got the shape its schema has at that moment.
func readDuringRollingMigration(t testing.TB, db *store.DB, url, p string, n int) rollingResult {
	t.Helper()
	ctx := context.Background()
	schemas := schemaNames(p, n)
	migrateAll(t, url, nil, schemas)
	seedRows(t, db, schemas)
	var half []string
	for i, s := range schemas {
		if i%2 == 0 {
			half = append(half, s)
		}
	}
	newFS := withExtraMigration(t, map[string]string{"99998_add_settings_note.sql": `-- +goose Up
ALTER TABLE settings ADD COLUMN note text NOT NULL DEFAULT '';
-- +goose Down
ALTER TABLE settings DROP COLUMN note;
`})

	var (
		res       rollingResult
		mu        sync.Mutex
		migrating atomic.Bool
		migrated  atomic.Bool
		wg        sync.WaitGroup
		ready     sync.WaitGroup
	)
	ready.Add(4)
	for r := range 4 {
		wg.Go(func() {
			warm := true
			extraPasses := 0
			for extraPasses < 2 {
				finished := migrated.Load()
				order := slices.Clone(schemas)
				rand.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
				for _, s := range order {
					during := migrating.Load()
					var rows []map[string]any
					err := db.InTenant(ctx, store.Schema(s), func(tx *gorm.DB) error {
						return tx.Raw(`SELECT * FROM settings`).Scan(&rows).Error
					})
					mu.Lock()
					res.reads++
					if during {
						res.duringMigration++
					}
					switch {
					case err != nil:
						res.errs = append(res.errs, fmt.Errorf("reader %d, %s: %w", r, s, err))
					case len(rows) == 0:
						res.errs = append(res.errs, fmt.Errorf("reader %d, %s: no rows", r, s))
					case len(rows[0]) == 3:
						res.oldShape++
					case len(rows[0]) == 4:
						res.newShape++
						if _, ok := rows[0]["note"]; !ok {
							res.errs = append(res.errs, fmt.Errorf("reader %d, %s: 4 columns without note: %v", r, s, rows[0]))
						}
					default:
						res.errs = append(res.errs, fmt.Errorf("reader %d, %s: %d columns", r, s, len(rows[0])))
					}
					mu.Unlock()
				}
				if warm {
					warm = false
					ready.Done() // every reader has used the pool in every schema
				}
				if finished {
					extraPasses++
				}
			}
		})
	}
	ready.Wait()
	migrating.Store(true)
	rep := store.NewMigrator(url, 8, nil).WithTenantFS(newFS).UpTenants(ctx, half)
	migrating.Store(false)
	migrated.Store(true)
	wg.Wait()
	if f := rep.Failed(); len(f) > 0 {
		t.Fatalf("migration failed in %d schemas: %v", len(f), f[0].Err)
	}
	return res
}
