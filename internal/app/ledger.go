package app

import (
	"context"
	"fmt"
	"io"

	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/ledger"
	"github.com/paotui/paotui/internal/platform/tenancy"
)

// CheckLedgers runs ledger.Check for one tenant (slug) or all active and suspended tenants
// (slug ""), prints a line per tenant and fails when any ledger is off.
func (a *App) CheckLedgers(ctx context.Context, w io.Writer, slug string) error {
	var tenants []tenancy.Tenant
	if slug != "" {
		t, err := a.Registry.BySlug(ctx, slug)
		if err != nil {
			return fmt.Errorf("tenant %q: %w", slug, err)
		}
		tenants = []tenancy.Tenant{*t}
	} else {
		all, _, err := a.Registry.List(ctx, tenancy.ListFilter{Limit: 1 << 30})
		if err != nil {
			return err
		}
		for _, t := range all {
			if t.Status == tenancy.StatusActive || t.Status == tenancy.StatusSuspended {
				tenants = append(tenants, t)
			}
		}
	}
	bad := 0
	for i := range tenants {
		t := &tenants[i]
		var rep ledger.Report
		err := a.DB.InTenant(ctx, t, func(tx *gorm.DB) error {
			var err error
			rep, err = ledger.Check(tx)
			return err
		})
		if err != nil {
			return fmt.Errorf("check %s: %w", t.Slug, err)
		}
		if !rep.Clean() {
			bad++
		}
		fmt.Fprintf(w, "%s: %s\n", t.Slug, rep.String())
	}
	if bad > 0 {
		return fmt.Errorf("%d ledger(s) are off", bad)
	}
	return nil
}
