// Package ledgertest lets any package's tests assert that a tenant's ledger is sound after
// whatever they did to it (paid, cancelled, refunded, settled).
package ledgertest

import (
	"context"
	"testing"

	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/ledger"
	"github.com/paotui/paotui/internal/store"
)

// RequireClean runs ledger.Check in the tenant's schema and fails t with every problem found.
func RequireClean(t testing.TB, db *store.DB, tenant store.Scope) ledger.Report {
	t.Helper()
	var r ledger.Report
	err := db.InTenant(context.Background(), tenant, func(tx *gorm.DB) error {
		var err error
		r, err = ledger.Check(tx)
		return err
	})
	if err != nil {
		t.Fatalf("ledger check of %s: %v", tenant.SchemaName(), err)
	}
	if !r.Clean() {
		t.Fatalf("ledger of %s is not clean: %s", tenant.SchemaName(), r)
	}
	return r
}
