package billing

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/jobs"
	"github.com/paotui/paotui/internal/platform/plans"
	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/store/storetest"
)

type noInvalidate struct{}

func (noInvalidate) Invalidate(context.Context, int64) error { return nil }

// Stripe delivers events late and out of order: an older event never overwrites a newer
// state, invoices never go back from paid, and the tenant follows the newest state.
func TestEventsApplyInEventTimeOrder(t *testing.T) {
	db, _ := storetest.New(t)
	ctx := context.Background()
	reg := tenancy.NewRegistry(db.Gorm, nil)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s := New(db, reg, noInvalidate{}, plans.NewService(db, nil), nil, jobs.NewOutbox(), Config{GracePeriod: time.Hour,
		URL: func(h string) string { return "http://" + h }, BaseDomain: "example.test"}, log)
	var id int64
	if err := db.Gorm.Transaction(func(tx *gorm.DB) error {
		tn, err := reg.Insert(tx, "ordered", "Ordered")
		if err != nil {
			return err
		}
		id = tn.ID
		if _, err := reg.SetStatus(tx, id, tenancy.StatusActive, ""); err != nil {
			return err
		}
		return tx.Create(&subRow{TenantID: id, PlanID: "campus", BillingInterval: "month", Status: StatusActive}).Error
	}); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().UTC().Truncate(time.Second)
	sub := func(status string) *Subscription {
		return &Subscription{ID: "sub_1", CustomerID: "cus_1", Status: status}
	}
	apply := func(ev Event) {
		t.Helper()
		if err := s.Apply(ctx, id, ev); err != nil {
			t.Fatal(err)
		}
	}
	state := func() (Status, tenancy.Status, tenancy.Hold) {
		t.Helper()
		var r subRow
		if err := db.Gorm.Where("tenant_id = ?", id).Take(&r).Error; err != nil {
			t.Fatal(err)
		}
		tn, err := reg.ByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return r.Status, tn.Status, tn.Hold
	}

	apply(Event{ID: "e2", Type: "customer.subscription.updated", Created: t0.Add(2 * time.Second), Subscription: sub("canceled")})
	if st, ts, h := state(); st != StatusCanceled || ts != tenancy.StatusSuspended || h != tenancy.HoldBilling {
		t.Fatalf("after cancel: %s %s %s", st, ts, h)
	}
	// An older "active" arrives late: ignored.
	apply(Event{ID: "e1", Type: "customer.subscription.updated", Created: t0.Add(time.Second), Subscription: sub("active")})
	if st, ts, _ := state(); st != StatusCanceled || ts != tenancy.StatusSuspended {
		t.Fatalf("a late older event changed the state: %s %s", st, ts)
	}
	// A newer one wins and lifts the billing hold.
	apply(Event{ID: "e3", Type: "customer.subscription.updated", Created: t0.Add(3 * time.Second), Subscription: sub("active")})
	if st, ts, h := state(); st != StatusActive || ts != tenancy.StatusActive || h != tenancy.HoldNone {
		t.Fatalf("after reactivation: %s %s %q", st, ts, h)
	}
	// A platform suspension is not lifted by billing.
	if err := db.Gorm.Transaction(func(tx *gorm.DB) error {
		_, err := reg.SetStatus(tx, id, tenancy.StatusSuspended, "abuse")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	paid := &InvoiceState{ID: "in_1", Status: "paid", Currency: "cny", AmountDue: 100, AmountPaid: 100, Created: t0}
	apply(Event{ID: "e4", Type: "invoice.paid", Created: t0.Add(4 * time.Second), Invoice: paid})
	if _, ts, h := state(); ts != tenancy.StatusSuspended || h != tenancy.HoldPlatform {
		t.Fatalf("billing lifted a platform hold: %s %q", ts, h)
	}
	// The invoice stays paid when a late "open" update arrives.
	open := *paid
	open.Status, open.AmountPaid = "open", 0
	apply(Event{ID: "e0", Type: "invoice.updated", Created: t0, Invoice: &open})
	invs, total, err := s.Invoices(ctx, id, 10, 0)
	if err != nil || total != 1 || invs[0].Status != "paid" || invs[0].AmountPaid != 100 {
		t.Fatalf("invoices: %+v %d %v", invs, total, err)
	}
}

// The end of a grace period pauses the tenant once; a platform admin who resumes it anyway is
// not overruled by the next sweep, and a paid invoice then clears the debt.
func TestGraceEndPausesOnceAndPlatformResumeSticks(t *testing.T) {
	db, _ := storetest.New(t)
	ctx := context.Background()
	reg := tenancy.NewRegistry(db.Gorm, nil)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s := New(db, reg, noInvalidate{}, plans.NewService(db, nil), nil, jobs.NewOutbox(), Config{GracePeriod: time.Hour,
		URL: func(h string) string { return "http://" + h }, BaseDomain: "example.test"}, log)
	var id int64
	past := time.Now().Add(-time.Minute)
	if err := db.Gorm.Transaction(func(tx *gorm.DB) error {
		tn, err := reg.Insert(tx, "owing", "Owing")
		if err != nil {
			return err
		}
		id = tn.ID
		if _, err := reg.SetStatus(tx, id, tenancy.StatusActive, ""); err != nil {
			return err
		}
		return tx.Create(&subRow{TenantID: id, PlanID: "campus", BillingInterval: "month", Status: StatusPastDue,
			PastDueSince: &past, GraceUntil: &past}).Error
	}); err != nil {
		t.Fatal(err)
	}
	status := func() (tenancy.Status, tenancy.Hold) {
		tn, err := reg.ByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return tn.Status, tn.Hold
	}
	if err := s.HandleGrace(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if st, h := status(); st != tenancy.StatusSuspended || h != tenancy.HoldBilling {
		t.Fatalf("after the grace period: %s %q", st, h)
	}
	if err := db.Gorm.Transaction(func(tx *gorm.DB) error {
		_, err := reg.SetStatus(tx, id, tenancy.StatusActive, "goodwill")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.HandleGrace(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if st, _ := status(); st != tenancy.StatusActive {
		t.Fatalf("the sweep overruled the platform's resume: %s", st)
	}
	if err := s.Apply(ctx, id, Event{ID: "paid", Type: "invoice.paid", Created: time.Now().UTC(),
		Invoice: &InvoiceState{ID: "in_9", Status: "paid", Currency: "cny", Created: time.Now().UTC()}}); err != nil {
		t.Fatal(err)
	}
	var r subRow
	if err := db.Gorm.Where("tenant_id = ?", id).Take(&r).Error; err != nil || r.Status != StatusActive || r.PastDueSince != nil {
		t.Fatalf("after paying: %+v %v", r, err)
	}
}

// A team made by an operator has no subscription; its owner sees status none on its plan, not
// an error.
func TestViewWithoutSubscription(t *testing.T) {
	db, _ := storetest.New(t)
	ctx := context.Background()
	reg := tenancy.NewRegistry(db.Gorm, nil)
	s := New(db, reg, noInvalidate{}, plans.NewService(db, nil), nil, jobs.NewOutbox(), Config{GracePeriod: time.Hour,
		URL: func(h string) string { return "http://" + h }, BaseDomain: "example.test"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	var tn *tenancy.Tenant
	if err := db.Gorm.Transaction(func(tx *gorm.DB) error {
		var err error
		if tn, err = reg.Insert(tx, "operator", "Operator made"); err != nil {
			return err
		}
		return tx.Exec(`UPDATE public.tenants SET plan_id = 'pro' WHERE id = ?`, tn.ID).Error
	}); err != nil {
		t.Fatal(err)
	}
	v, err := s.Get(ctx, tn)
	if err != nil || v.Status != StatusNone || v.PlanID != "pro" || v.Banner != nil {
		t.Fatalf("view: %+v %v", v, err)
	}
	if v, err := s.ViewOf(ctx, tn.ID); err != nil || v != nil {
		t.Fatalf("the platform's view of a tenant without a subscription: %+v %v", v, err)
	}
}
