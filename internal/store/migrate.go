package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"golang.org/x/sync/errgroup"

	"github.com/paotui/paotui/migrations"
)

// Migrator applies migrations/platform to the public schema and migrations/tenant to tenant
// schemas. Each schema keeps its own goose_db_version table and is migrated under its own
// advisory lock, so runners on several replicas can work on different tenants in parallel.
type Migrator struct {
	url         string
	concurrency int
	log         *slog.Logger
	platform    fs.FS
	tenant      fs.FS
}

// NewMigrator migrates the database at url, at most concurrency tenant schemas at once.
func NewMigrator(url string, concurrency int, log *slog.Logger) *Migrator {
	if concurrency < 1 {
		concurrency = 1
	}
	return &Migrator{url: url, concurrency: concurrency, log: log, platform: migrations.Platform(), tenant: migrations.Tenant()}
}

// WithTenantFS replaces the tenant migrations (tests that add or break a migration).
func (m *Migrator) WithTenantFS(f fs.FS) *Migrator { c := *m; c.tenant = f; return &c }

// UpPlatform applies pending control-plane migrations.
func (m *Migrator) UpPlatform(ctx context.Context) error {
	_, _, err := m.up(ctx, "public", m.platform, false)
	return err
}

// UpTenant creates schema if needed and applies pending tenant migrations to it. Each
// migration runs in its own transaction, so a failure leaves the schema at its last good
// version.
func (m *Migrator) UpTenant(ctx context.Context, schema string) (from, to int64, err error) {
	if err := ValidSchema(schema); err != nil {
		return 0, 0, err
	}
	return m.up(ctx, schema, m.tenant, true)
}

// Result is what happened to one tenant schema.
type Result struct {
	Schema   string
	From, To int64
	Err      error
	Took     time.Duration
}

// Report is the outcome of migrating many schemas.
type Report struct {
	Results []Result
	Took    time.Duration
}

// Failed lists the schemas that did not reach the latest version.
func (r Report) Failed() []Result {
	var out []Result
	for _, res := range r.Results {
		if res.Err != nil {
			out = append(out, res)
		}
	}
	return out
}

// UpTenants migrates every schema with bounded concurrency. A failing schema is reported and
// left at its last good version; the others carry on. Only ctx cancellation stops the walk.
func (m *Migrator) UpTenants(ctx context.Context, schemas []string) Report {
	start := time.Now()
	results := make([]Result, len(schemas))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(m.concurrency)
	for i, s := range schemas {
		g.Go(func() error {
			t0 := time.Now()
			from, to, err := m.UpTenant(gctx, s)
			results[i] = Result{Schema: s, From: from, To: to, Err: err, Took: time.Since(t0)}
			if err != nil && m.log != nil {
				m.log.Error("tenant migration failed", "schema", s, "version", to, "err", err)
			}
			return nil
		})
	}
	_ = g.Wait()
	return Report{Results: results, Took: time.Since(start)}
}

// LatestTenantVersion is the highest version among the embedded tenant migrations.
func (m *Migrator) LatestTenantVersion() (int64, error) { return latestVersion(m.tenant) }

// LatestPlatformVersion is the highest version among the embedded platform migrations.
func (m *Migrator) LatestPlatformVersion() (int64, error) { return latestVersion(m.platform) }

// SchemaVersion is a schema's applied version (0 when it has never been migrated).
type SchemaVersion struct {
	Schema  string
	Version int64
}

// Versions reads the applied version of each schema through db; missing schemas or version
// tables read as 0.
func (m *Migrator) Versions(ctx context.Context, db *sql.DB, schemas []string) ([]SchemaVersion, error) {
	out := make([]SchemaVersion, 0, len(schemas))
	var have map[string]bool
	rows, err := db.QueryContext(ctx, `SELECT table_schema FROM information_schema.tables WHERE table_name = 'goose_db_version'`)
	if err != nil {
		return nil, err
	}
	have = map[string]bool{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return nil, err
		}
		have[s] = true
	}
	rows.Close()
	for _, s := range schemas {
		v := SchemaVersion{Schema: s}
		if have[s] && (s == "public" || ValidSchema(s) == nil) {
			q := fmt.Sprintf(`SELECT coalesce(max(version_id), 0) FROM %s.goose_db_version WHERE is_applied`, QuoteIdent(s))
			if err := db.QueryRowContext(ctx, q).Scan(&v.Version); err != nil {
				return nil, fmt.Errorf("version of %s: %w", s, err)
			}
		}
		out = append(out, v)
	}
	return out, nil
}

func (m *Migrator) up(ctx context.Context, schema string, fsys fs.FS, create bool) (from, to int64, err error) {
	db, err := m.openIn(schema)
	if err != nil {
		return 0, 0, err
	}
	defer db.Close()
	if create {
		if _, err := db.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+QuoteIdent(schema)); err != nil {
			return 0, 0, fmt.Errorf("create schema %s: %w", schema, err)
		}
	}
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(lockID(schema)), lock.WithLockTimeout(1, 300))
	if err != nil {
		return 0, 0, err
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys,
		goose.WithSessionLocker(locker), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return 0, 0, fmt.Errorf("migrations: %w", err)
	}
	from, err = p.GetDBVersion(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("read version of %s: %w", schema, err)
	}
	_, upErr := p.Up(ctx)
	to, err = p.GetDBVersion(ctx)
	if err != nil {
		to = from
	}
	if upErr != nil {
		var pe *goose.PartialError
		if errors.As(upErr, &pe) && pe.Failed != nil && pe.Failed.Source != nil {
			return from, to, fmt.Errorf("%s: migration %d (%s): %w", schema, pe.Failed.Source.Version,
				path.Base(pe.Failed.Source.Path), pe.Err)
		}
		return from, to, fmt.Errorf("%s: %w", schema, upErr)
	}
	return from, to, nil
}

// openIn opens a small pool whose connections have search_path = schema, the way tenant
// migrations are written (unqualified).
func (m *Migrator) openIn(schema string) (*sql.DB, error) {
	pc, err := pgx.ParseConfig(m.url)
	if err != nil {
		return nil, err
	}
	pc.RuntimeParams["search_path"] = schema
	pc.DefaultQueryExecMode = pgx.QueryExecModeExec
	db := stdlib.OpenDB(*pc)
	db.SetMaxOpenConns(2)
	return db, nil
}

// lockID gives every schema its own advisory lock key.
func lockID(schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("paotui:migrate:" + schema))
	return int64(h.Sum64() & 0x7fffffffffffffff)
}

func latestVersion(fsys fs.FS) (int64, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return 0, err
	}
	sort.Strings(names)
	var latest int64
	for _, n := range names {
		v, err := strconv.ParseInt(strings.SplitN(n, "_", 2)[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("migration %s: name must start with a number", n)
		}
		if v > latest {
			latest = v
		}
	}
	return latest, nil
}
