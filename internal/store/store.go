package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/paotui/paotui/internal/config"
)

// DB is the process's database handle. Control-plane code uses Gorm with schema-qualified
// tables (public.tenants); tenant data is reached only through InTenant.
type DB struct {
	Gorm *gorm.DB
	SQL  *sql.DB

	maxSchemasPerConn int
}

// Open connects with the pool limits from cfg.
//
// Statements run in pgx's "exec" mode: no named prepared statements are cached on a
// connection. A cached statement is bound to the result type it was first planned with, and the
// same SQL text means a different table in each tenant schema; while tenants migrate one by one
// two schemas may differ, and a cached `SELECT *` would fail with "cached plan must not change
// result type". Exec mode still takes one round trip and also works behind pgbouncer in
// transaction mode.
func Open(ctx context.Context, cfg config.Database) (*DB, error) {
	pc, err := pgx.ParseConfig(cfg.URL.Reveal())
	if err != nil {
		return nil, fmt.Errorf("database.url: %w", err)
	}
	pc.DefaultQueryExecMode = pgx.QueryExecModeExec
	sqlDB := stdlib.OpenDB(*pc)
	sqlDB.SetMaxOpenConns(cfg.MaxOpenConns)
	sqlDB.SetMaxIdleConns(cfg.MaxIdleConns)
	sqlDB.SetConnMaxLifetime(cfg.ConnMaxLifetime)
	sqlDB.SetConnMaxIdleTime(cfg.ConnMaxIdleTime)
	g, err := gorm.Open(postgres.New(postgres.Config{Conn: sqlDB}), &gorm.Config{
		SkipDefaultTransaction: true, // every write already runs in InTenant's or the caller's transaction
		Logger:                 logger.Discard,
		NowFunc:                func() time.Time { return time.Now().UTC() },
		TranslateError:         true,
	})
	if err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("open gorm: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	return &DB{Gorm: g, SQL: sqlDB, maxSchemasPerConn: cfg.MaxSchemasPerConn}, nil
}

// Close releases the pool.
func (d *DB) Close() error { return d.SQL.Close() }

// Ping reports whether PostgreSQL answers.
func (d *DB) Ping(ctx context.Context) error { return d.SQL.PingContext(ctx) }

// Scope is what InTenant needs of a tenant: its schema name, taken from the registry.
type Scope interface {
	SchemaName() string
}

// Schema is a bare schema name that satisfies Scope (migrations, tests).
type Schema string

// SchemaName returns s.
func (s Schema) SchemaName() string { return string(s) }

var schemaPattern = regexp.MustCompile(`^tenant_[a-z0-9_]{1,40}$`)

// ErrBadSchema is returned for a schema name that is not a tenant schema.
var ErrBadSchema = errors.New("invalid tenant schema name")

// ValidSchema checks a tenant schema name before it is ever put into SQL.
func ValidSchema(name string) error {
	if !schemaPattern.MatchString(name) {
		return fmt.Errorf("%w: %q", ErrBadSchema, name)
	}
	return nil
}

// QuoteIdent quotes a validated identifier for SQL.
func QuoteIdent(name string) string { return pgx.Identifier{name}.Sanitize() }

const rollbackTimeout = 5 * time.Second

// WithSchemaCap returns d with another distinct-schema cap per connection (tests, tools).
func WithSchemaCap(d *DB, n int) *DB {
	c := *d
	c.maxSchemasPerConn = n
	return &c
}
