package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/paotui/paotui/internal/store"
	"github.com/paotui/paotui/internal/store/storetest"
)

// Target: one new migration applied to 1,000 tenant schemas in at most 60 s.
//
// Setup makes 1,000 schemas at the current tenant version through the real runner
// (UpTenants, concurrency 8) and reports how long that took (create-s: the cost of a
// from-scratch deploy). Each iteration then adds one migration (ADD COLUMN + CREATE INDEX on
// settings) and applies it to all 1,000 schemas with UpTenants, as `paotui migrate` does.
//
//	go test -run '^$' -bench BenchmarkMigrateNewVersion -benchtime 1x ./internal/store/
func BenchmarkMigrateNewVersion(b *testing.B) {
	if testing.Short() {
		b.Skip("creates 1,000 schemas")
	}
	const n = 1000
	_, d := storetest.New(b)
	ctx := context.Background()
	schemas := schemaNames("m", n)
	created := migrateAll(b, d.URL, nil, schemas)
	extra := map[string]string{}
	m := store.NewMigrator(d.URL, 8, nil)

	b.ResetTimer()
	var total float64
	for i := 0; i < b.N; i++ {
		v := 90000 + i
		extra[fmt.Sprintf("%05d_add_bench_note_%d.sql", v, i)] = fmt.Sprintf(`-- +goose Up
ALTER TABLE settings ADD COLUMN bench_note_%[1]d text;
CREATE INDEX settings_bench_note_%[1]d_idx ON settings (bench_note_%[1]d);
-- +goose Down
DROP INDEX settings_bench_note_%[1]d_idx;
ALTER TABLE settings DROP COLUMN bench_note_%[1]d;
`, i)
		rep := m.WithTenantFS(withExtraMigration(b, extra)).UpTenants(ctx, schemas)
		total += rep.Took.Seconds()
		b.StopTimer()
		if f := rep.Failed(); len(f) > 0 {
			b.Fatalf("%d schemas failed, first: %v", len(f), f[0].Err)
		}
		for _, r := range rep.Results {
			if r.To != int64(v) {
				b.Fatalf("%s at version %d, want %d", r.Schema, r.To, v)
			}
		}
		b.StartTimer()
	}
	b.ReportMetric(created.Took.Seconds(), "create-s")
	b.ReportMetric(created.Took.Seconds()*1000/n, "create-ms/schema")
	b.ReportMetric(total/float64(b.N), "s/1000schemas")
	b.ReportMetric(total/float64(b.N)*1000/n, "ms/schema")
}

// A new migration fails in one of 200 schemas (an object the migration wants to create is
// already there). The runner must report exactly that schema, leave it at its previous
// version with none of the migration's changes, and bring the other 199 to the new version;
// once the obstacle is gone a second run finishes the job.
func TestMigrate200WithOneBroken(t *testing.T) {
	if testing.Short() {
		t.Skip("creates 200 schemas")
	}
	const n = 200
	db, d := storetest.New(t)
	ctx := context.Background()
	schemas := schemaNames("x", n)
	migrateAll(t, d.URL, nil, schemas)
	before, err := store.NewMigrator(d.URL, 8, nil).LatestTenantVersion()
	if err != nil {
		t.Fatal(err)
	}

	broken := schemas[137]
	// The new migration's index name is taken by a table in the broken schema.
	if _, err := db.SQL.ExecContext(ctx, `CREATE TABLE `+broken+`.settings_bench_note_idx (id int)`); err != nil {
		t.Fatal(err)
	}
	const newVersion = 99999
	m := store.NewMigrator(d.URL, 8, nil).WithTenantFS(withExtraMigration(t, map[string]string{
		"99999_add_bench_note.sql": `-- +goose Up
ALTER TABLE settings ADD COLUMN bench_note text;
CREATE INDEX settings_bench_note_idx ON settings (bench_note);
-- +goose Down
DROP INDEX settings_bench_note_idx;
ALTER TABLE settings DROP COLUMN bench_note;
`}))
	rep := m.UpTenants(ctx, schemas)
	t.Logf("200 schemas, one broken: %v (%.1f ms/schema)", rep.Took, float64(rep.Took.Milliseconds())/n)

	failed := rep.Failed()
	if len(failed) != 1 || failed[0].Schema != broken {
		t.Fatalf("failed = %+v, want only %s", failed, broken)
	}
	if msg := failed[0].Err.Error(); !strings.Contains(msg, "99999") || !strings.Contains(msg, "already exists") {
		t.Errorf("error does not name the migration and cause: %v", msg)
	}
	if failed[0].To != before {
		t.Errorf("broken schema reported at version %d, want %d", failed[0].To, before)
	}
	for _, r := range rep.Results {
		if r.Schema != broken && (r.Err != nil || r.To != newVersion) {
			t.Errorf("%s: to=%d err=%v", r.Schema, r.To, r.Err)
		}
	}

	// The database agrees with the report.
	vs, err := m.Versions(ctx, db.SQL, schemas)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		want := int64(newVersion)
		if v.Schema == broken {
			want = before
		}
		if v.Version != want {
			t.Errorf("%s at version %d, want %d", v.Schema, v.Version, want)
		}
	}
	var withColumn int
	if err := db.SQL.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.columns
		WHERE table_name = 'settings' AND column_name = 'bench_note' AND table_schema LIKE 'tenant_x%'`).Scan(&withColumn); err != nil {
		t.Fatal(err)
	}
	if withColumn != n-1 {
		t.Errorf("%d schemas have the new column, want %d", withColumn, n-1)
	}
	var brokenHasColumn bool
	if err := db.SQL.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM information_schema.columns
		WHERE table_schema = $1 AND table_name = 'settings' AND column_name = 'bench_note')`, broken).Scan(&brokenHasColumn); err != nil {
		t.Fatal(err)
	}
	if brokenHasColumn {
		t.Error("the failed migration's ADD COLUMN was not rolled back in the broken schema")
	}

	// Resumable: fix the schema, run again; only the broken one has work left.
	if _, err := db.SQL.ExecContext(ctx, `DROP TABLE `+broken+`.settings_bench_note_idx`); err != nil {
		t.Fatal(err)
	}
	rep = m.UpTenants(ctx, schemas)
	if f := rep.Failed(); len(f) > 0 {
		t.Fatalf("second run: %v", f[0].Err)
	}
	for _, r := range rep.Results {
		moved := r.From != r.To
		if r.To != newVersion || moved != (r.Schema == broken) {
			t.Errorf("second run %s: %d -> %d", r.Schema, r.From, r.To)
		}
	}
}
