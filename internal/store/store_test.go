package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/store"
	"github.com/paotui/paotui/internal/store/storetest"
)

func setup(t *testing.T, schemas ...string) *store.DB {
	t.Helper()
	db, d := storetest.New(t)
	m := store.NewMigrator(d.URL, 4, nil)
	for _, s := range schemas {
		if _, _, err := m.UpTenant(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

func TestInTenantSetsSearchPath(t *testing.T) {
	db := setup(t, "tenant_a1", "tenant_b2")
	ctx := context.Background()
	for _, s := range []string{"tenant_a1", "tenant_b2", "tenant_a1"} {
		var got string
		err := db.InTenant(ctx, store.Schema(s), func(tx *gorm.DB) error {
			return tx.Raw("SELECT current_schema()").Scan(&got).Error
		})
		if err != nil || got != s {
			t.Fatalf("current_schema() = %q, %v; want %q", got, err, s)
		}
	}
	// Outside the helper an unqualified tenant table does not resolve: a missing scope fails closed.
	var n int
	if err := db.Gorm.Raw("SELECT count(*) FROM users").Scan(&n).Error; err == nil {
		t.Fatal("unqualified tenant table resolved outside InTenant")
	}
}

func TestInTenantRefusesBadSchema(t *testing.T) {
	db := setup(t)
	for _, s := range []string{"public", "tenant_", "tenant_A", "tenant_x; DROP TABLE users", "pg_catalog"} {
		err := db.InTenant(context.Background(), store.Schema(s), func(*gorm.DB) error { return nil })
		if !errors.Is(err, store.ErrBadSchema) {
			t.Fatalf("%q: want ErrBadSchema, got %v", s, err)
		}
	}
}

func TestInTenantIsolatesAndRollsBack(t *testing.T) {
	db := setup(t, "tenant_a1", "tenant_b2")
	ctx := context.Background()
	put := func(s, key string) error {
		return db.InTenant(ctx, store.Schema(s), func(tx *gorm.DB) error {
			return tx.Exec(`INSERT INTO settings (key, value) VALUES (?, '1')`, key).Error
		})
	}
	keys := func(s string) []string {
		var out []string
		if err := db.InTenant(ctx, store.Schema(s), func(tx *gorm.DB) error {
			return tx.Raw(`SELECT key FROM settings ORDER BY key`).Scan(&out).Error
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if err := put("tenant_a1", "only_a"); err != nil {
		t.Fatal(err)
	}
	if err := put("tenant_b2", "only_b"); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := db.InTenant(ctx, store.Schema("tenant_a1"), func(tx *gorm.DB) error {
		if err := tx.Exec(`INSERT INTO settings (key, value) VALUES ('rolled_back', '1')`).Error; err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("want fn's error, got %v", err)
	}
	// A statement that failed inside fn poisons the transaction even if fn hides the error.
	err = db.InTenant(ctx, store.Schema("tenant_a1"), func(tx *gorm.DB) error {
		_ = tx.Exec(`INSERT INTO settings (key, value) VALUES ('BAD KEY', '1')`).Error
		return nil
	})
	if !errors.Is(err, store.ErrRolledBack) {
		t.Fatalf("want ErrRolledBack, got %v", err)
	}
	if got := fmt.Sprint(keys("tenant_a1")); got != "[only_a]" {
		t.Fatalf("tenant_a1 sees %s", got)
	}
	if got := fmt.Sprint(keys("tenant_b2")); got != "[only_b]" {
		t.Fatalf("tenant_b2 sees %s", got)
	}
}

func TestInTenantNestedUsesSavepoint(t *testing.T) {
	db := setup(t, "tenant_a1")
	ctx := context.Background()
	err := db.InTenant(ctx, store.Schema("tenant_a1"), func(tx *gorm.DB) error {
		if err := tx.Exec(`INSERT INTO settings (key, value) VALUES ('outer', '1')`).Error; err != nil {
			return err
		}
		_ = tx.Transaction(func(inner *gorm.DB) error {
			inner.Exec(`INSERT INTO settings (key, value) VALUES ('inner', '1')`)
			return errors.New("undo inner only")
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	_ = db.InTenant(ctx, store.Schema("tenant_a1"), func(tx *gorm.DB) error {
		return tx.Raw(`SELECT key FROM settings`).Scan(&keys).Error
	})
	if fmt.Sprint(keys) != "[outer]" {
		t.Fatalf("got %v, want [outer]", keys)
	}
}

func TestInTenantPanicRollsBackAndConnectionIsClean(t *testing.T) {
	db := setup(t, "tenant_a1")
	db.SQL.SetMaxOpenConns(1) // the one connection must come back clean
	ctx := context.Background()
	func() {
		defer func() { _ = recover() }()
		_ = db.InTenant(ctx, store.Schema("tenant_a1"), func(tx *gorm.DB) error {
			tx.Exec(`INSERT INTO settings (key, value) VALUES ('panicked', '1')`)
			panic("handler bug")
		})
	}()
	var path string
	if err := db.Gorm.Raw("SHOW search_path").Scan(&path).Error; err != nil {
		t.Fatal(err)
	}
	if path == "tenant_a1" {
		t.Fatal("search_path leaked to the pool")
	}
	var n int64
	_ = db.InTenant(ctx, store.Schema("tenant_a1"), func(tx *gorm.DB) error {
		return tx.Raw(`SELECT count(*) FROM settings`).Scan(&n).Error
	})
	if n != 0 {
		t.Fatalf("panicking transaction committed %d rows", n)
	}
}

// While tenants migrate one by one, the same SQL text sees different columns in different
// schemas. With cached prepared statements this fails with "cached plan must not change result
// type"; the pool must not cache them.
func TestNoCachedPlanErrorsAcrossDivergentSchemas(t *testing.T) {
	db := setup(t, "tenant_a1", "tenant_b2")
	db.SQL.SetMaxOpenConns(1)
	ctx := context.Background()
	if err := db.InTenant(ctx, store.Schema("tenant_b2"), func(tx *gorm.DB) error {
		return tx.Exec(`ALTER TABLE settings ADD COLUMN note text`).Error
	}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 40; i++ {
		s := []string{"tenant_a1", "tenant_b2"}[i%2]
		var rows []map[string]any
		if err := db.InTenant(ctx, store.Schema(s), func(tx *gorm.DB) error {
			return tx.Raw(`SELECT * FROM settings WHERE key = ?`, "x").Scan(&rows).Error
		}); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// A connection that has served more distinct tenant schemas than the cap is closed, so a
// backend's catalog cache (which only grows) stays bounded.
func TestConnectionRetiredAfterSchemaCap(t *testing.T) {
	db, d := storetest.New(t)
	m := store.NewMigrator(d.URL, 4, nil)
	schemas := []string{"tenant_c1", "tenant_c2", "tenant_c3", "tenant_c4"}
	for _, s := range schemas {
		if _, _, err := m.UpTenant(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
	capped := store.WithSchemaCap(db, 2)
	capped.SQL.SetMaxOpenConns(1)
	pid := func() int {
		var p int
		_ = capped.InTenant(context.Background(), store.Schema("tenant_c1"), func(tx *gorm.DB) error {
			return tx.Raw("SELECT pg_backend_pid()").Scan(&p).Error
		})
		return p
	}
	first := pid()
	_ = capped.InTenant(context.Background(), store.Schema("tenant_c2"), func(*gorm.DB) error { return nil })
	if again := pid(); again != first {
		t.Fatalf("connection replaced after only 2 schemas (%d -> %d)", first, again)
	}
	_ = capped.InTenant(context.Background(), store.Schema("tenant_c3"), func(*gorm.DB) error { return nil })
	if next := pid(); next == first {
		t.Fatal("connection kept after serving 3 schemas with a cap of 2")
	}
}
