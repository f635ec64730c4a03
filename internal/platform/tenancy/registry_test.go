package tenancy_test

import (
	"errors"
	"testing"

	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/store/storetest"
)

// Holds: billing lifts only its own suspension, a stronger hold replaces a weaker one and never
// the reverse, a platform resume lifts any hold and cancels a scheduled deletion.
func TestHoldsDecideWhoMayResume(t *testing.T) {
	db, _ := storetest.New(t)
	reg := tenancy.NewRegistry(db.Gorm, nil)
	var id int64
	step := func(name string, f func(tx *gorm.DB) (*tenancy.Tenant, error), status tenancy.Status, hold tenancy.Hold) {
		t.Helper()
		var got *tenancy.Tenant
		if err := db.Gorm.Transaction(func(tx *gorm.DB) error {
			var err error
			got, err = f(tx)
			return err
		}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		stored, err := reg.ByID(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		for _, tn := range []*tenancy.Tenant{got, stored} {
			if tn.Status != status || tn.Hold != hold {
				t.Fatalf("%s: status %s hold %q, want %s %q", name, tn.Status, tn.Hold, status, hold)
			}
		}
	}
	if err := db.Gorm.Transaction(func(tx *gorm.DB) error {
		tn, err := reg.Insert(tx, "holder", "Holder")
		id = tn.ID
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// Provisioned but its checkout is not complete: straight to a billing hold.
	step("billing holds a provisioning tenant", func(tx *gorm.DB) (*tenancy.Tenant, error) {
		return reg.Hold(tx, id, tenancy.HoldBilling, "awaiting payment")
	}, tenancy.StatusSuspended, tenancy.HoldBilling)
	step("billing releases its own hold", func(tx *gorm.DB) (*tenancy.Tenant, error) {
		return reg.Release(tx, id, tenancy.HoldBilling, "paid")
	}, tenancy.StatusActive, tenancy.HoldNone)
	step("platform suspends", func(tx *gorm.DB) (*tenancy.Tenant, error) {
		return reg.SetStatus(tx, id, tenancy.StatusSuspended, "abuse")
	}, tenancy.StatusSuspended, tenancy.HoldPlatform)
	step("billing cannot weaken a platform hold", func(tx *gorm.DB) (*tenancy.Tenant, error) {
		return reg.Hold(tx, id, tenancy.HoldBilling, "past due")
	}, tenancy.StatusSuspended, tenancy.HoldPlatform)
	step("billing cannot lift a platform hold", func(tx *gorm.DB) (*tenancy.Tenant, error) {
		return reg.Release(tx, id, tenancy.HoldBilling, "paid")
	}, tenancy.StatusSuspended, tenancy.HoldPlatform)
	step("deletion is stronger", func(tx *gorm.DB) (*tenancy.Tenant, error) {
		if err := tx.Exec(`UPDATE public.tenants SET delete_after = now() + interval '7 days' WHERE id = ?`, id).Error; err != nil {
			return nil, err
		}
		return reg.Hold(tx, id, tenancy.HoldDeletion, "owner asked")
	}, tenancy.StatusSuspended, tenancy.HoldDeletion)
	step("platform resume lifts any hold", func(tx *gorm.DB) (*tenancy.Tenant, error) {
		return reg.Release(tx, id, tenancy.HoldPlatform, "kept")
	}, tenancy.StatusActive, tenancy.HoldNone)
	if tn, _ := reg.ByID(t.Context(), id); tn.DeleteAfter != nil {
		t.Fatalf("resume left the deletion scheduled at %v", tn.DeleteAfter)
	}
	step("release of an active tenant changes nothing", func(tx *gorm.DB) (*tenancy.Tenant, error) {
		return reg.Release(tx, id, tenancy.HoldBilling, "paid again")
	}, tenancy.StatusActive, tenancy.HoldNone)
	if err := db.Gorm.Transaction(func(tx *gorm.DB) error {
		if _, err := reg.SetStatus(tx, id, tenancy.StatusDeleted, "gone"); err != nil {
			return err
		}
		_, err := reg.Hold(tx, id, tenancy.HoldBilling, "past due")
		return err
	}); !errors.Is(err, tenancy.ErrBadTransition) {
		t.Fatalf("hold on a deleted tenant: %v, want ErrBadTransition", err)
	}
}
