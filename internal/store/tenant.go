package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"
)

// ErrRolledBack is returned when COMMIT found the transaction already failed (a statement
// inside fn errored but fn returned nil), so nothing was written.
var ErrRolledBack = errors.New("transaction was rolled back by the database")

// InTenant runs fn in one transaction whose search_path is the tenant's schema and nothing
// else, so unqualified tenant tables resolve to that tenant only and a missing scope fails
// closed. fn's error (or panic) rolls everything back. fn must use only the *gorm.DB it is
// given; it may nest tx.Transaction (savepoints) but must not commit.
//
// The search_path is set with set_config(..., is_local => true), which ends with the
// transaction: nothing leaks to the next user of the pooled connection, also behind pgbouncer
// in transaction mode. BEGIN and set_config go to the server in one round trip, so scoping costs
// no extra round trip over a plain transaction.
func (d *DB) InTenant(ctx context.Context, t Scope, fn func(tx *gorm.DB) error) (err error) {
	schema := t.SchemaName()
	if err := ValidSchema(schema); err != nil {
		return err
	}
	conn, err := d.SQL.Conn(ctx)
	if err != nil {
		return fmt.Errorf("acquire connection: %w", err)
	}
	defer conn.Close()
	// The schema name is validated against a strict pattern above, so it can be inlined; a
	// statement without parameters is what lets pgx send both in one simple-protocol message.
	if _, err := conn.ExecContext(ctx, "BEGIN; SELECT set_config('search_path', '"+schema+"', true)"); err != nil {
		discard(conn)
		return fmt.Errorf("begin tenant transaction: %w", err)
	}
	done := false
	defer func() {
		if done {
			return
		}
		rollback(conn)
		if p := recover(); p != nil {
			panic(p)
		}
	}()
	tx := d.Gorm.Session(&gorm.Session{Context: ctx, NewDB: true})
	tx.Statement.ConnPool = &tenantTx{conn: conn}
	if err = fn(tx); err != nil {
		return err
	}
	done = true
	if err := commit(ctx, conn); err != nil {
		return err
	}
	d.retireIfWide(conn, schema)
	return nil
}

// schemasKey holds, on each pooled connection, the set of tenant schemas it has served.
const schemasKey = "paotui.schemas"

// retireIfWide closes a connection once it has served more than maxSchemasPerConn distinct
// schemas. A PostgreSQL backend caches the catalog of every table it touches (about 6 KB a
// table) and never forgets it, and a busy connection visits every tenant in seconds, so the
// lifetime cap alone does not bound a backend's memory; this does. The cap must sit above a
// connection's working set: below it, connections are replaced before their caches pay off.
// Bounding memory further calls for tenant-to-connection affinity (pools per tenant shard).
func (d *DB) retireIfWide(conn *sql.Conn, schema string) {
	if d.maxSchemasPerConn <= 0 {
		return
	}
	_ = conn.Raw(func(dc any) error {
		data := dc.(*stdlib.Conn).Conn().PgConn().CustomData()
		seen, _ := data[schemasKey].(map[string]struct{})
		if seen == nil {
			seen = map[string]struct{}{}
			data[schemasKey] = seen
		}
		seen[schema] = struct{}{}
		if len(seen) > d.maxSchemasPerConn {
			return driver.ErrBadConn // database/sql closes it instead of pooling it
		}
		return nil
	})
}

func commit(ctx context.Context, conn *sql.Conn) error {
	return conn.Raw(func(dc any) error {
		c := dc.(*stdlib.Conn).Conn()
		tag, err := c.Exec(ctx, "COMMIT")
		if err != nil {
			if c.PgConn().TxStatus() != 'I' {
				rollbackRaw(c)
			}
			return fmt.Errorf("commit: %w", err)
		}
		if tag.String() != "COMMIT" {
			return ErrRolledBack
		}
		return nil
	})
}

// rollback ends the transaction even when ctx is already cancelled; if that fails the
// connection is thrown away rather than returned to the pool mid-transaction.
func rollback(conn *sql.Conn) {
	_ = conn.Raw(func(dc any) error {
		c := dc.(*stdlib.Conn).Conn()
		rollbackRaw(c)
		if c.PgConn().TxStatus() != 'I' {
			return driver.ErrBadConn
		}
		return nil
	})
}

func rollbackRaw(c *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), rollbackTimeout)
	defer cancel()
	_, _ = c.Exec(ctx, "ROLLBACK")
}

func discard(conn *sql.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
}

// tenantTx is the gorm connection pool inside InTenant: one pinned connection in an open
// transaction. Implementing Commit/Rollback makes gorm treat it as a transaction, so a nested
// tx.Transaction uses savepoints instead of trying to BEGIN again.
type tenantTx struct{ conn *sql.Conn }

func (t *tenantTx) PrepareContext(ctx context.Context, q string) (*sql.Stmt, error) {
	return t.conn.PrepareContext(ctx, q)
}

func (t *tenantTx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return t.conn.ExecContext(ctx, q, args...)
}

func (t *tenantTx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return t.conn.QueryContext(ctx, q, args...)
}

func (t *tenantTx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return t.conn.QueryRowContext(ctx, q, args...)
}

var errManaged = errors.New("store: the tenant transaction is committed by InTenant; return an error to roll back")

func (t *tenantTx) Commit() error   { return errManaged }
func (t *tenantTx) Rollback() error { return errManaged }
