package billing

import (
	"testing"
	"time"

	"github.com/paotui/paotui/internal/platform/tenancy"
)

// The grace period starts when a subscription starts owing, is not restarted by later owing
// events, and ends when it stops owing; the tenant is paused only once it is over.
func TestGraceAndEffect(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	grace := 72 * time.Hour
	r := subRow{Status: StatusActive}
	if r.settleGrace(t0, grace) || r.GraceUntil != nil {
		t.Fatal("an active subscription has no grace period")
	}
	if e, _ := r.effect(t0); e != Serve {
		t.Fatalf("active: effect %v, want Serve", e)
	}
	r.Status = StatusPastDue
	if !r.settleGrace(t0, grace) || !r.GraceUntil.Equal(t0.Add(grace)) {
		t.Fatalf("past due: grace until %v, want %v", r.GraceUntil, t0.Add(grace))
	}
	if r.settleGrace(t0.Add(time.Hour), grace) || !r.GraceUntil.Equal(t0.Add(grace)) {
		t.Fatal("a second owing event restarted the grace period")
	}
	if e, _ := r.effect(t0.Add(grace - time.Second)); e != Keep {
		t.Fatalf("within the grace period: effect %v, want Keep", e)
	}
	if e, why := r.effect(t0.Add(grace)); e != Pause || why == "" {
		t.Fatalf("grace over: effect %v (%q), want Pause", e, why)
	}
	r.Status = StatusUnpaid
	if e, _ := r.effect(t0.Add(grace)); e != Pause {
		t.Fatal("unpaid after the grace period must pause too")
	}
	r.Status = StatusActive
	r.settleGrace(t0.Add(grace+time.Hour), grace)
	if r.PastDueSince != nil || r.GraceUntil != nil {
		t.Fatal("paying did not end the grace period")
	}
	for st, want := range map[Status]Effect{StatusTrialing: Serve, StatusNone: Serve, StatusCanceled: Pause, StatusPaused: Pause, StatusIncomplete: Keep} {
		r := subRow{Status: st}
		if e, _ := r.effect(t0); e != want {
			t.Errorf("%s: effect %v, want %v", st, e, want)
		}
	}
}

// A freshly provisioned tenant is held only while its first payment is outstanding or its
// subscription already ended.
func TestInitialHold(t *testing.T) {
	now := time.Now()
	for st, want := range map[Status]tenancy.Hold{
		StatusNone: tenancy.HoldNone, StatusTrialing: tenancy.HoldNone, StatusActive: tenancy.HoldNone,
		StatusIncomplete: tenancy.HoldBilling, StatusCanceled: tenancy.HoldBilling, StatusPastDue: tenancy.HoldNone,
	} {
		r := subRow{Status: st}
		if h, _ := r.initialHold(now); h != want {
			t.Errorf("%s: hold %q, want %q", st, h, want)
		}
	}
}

func TestStripeStatuses(t *testing.T) {
	for in, want := range map[string]Status{"active": StatusActive, "incomplete_expired": StatusCanceled, "past_due": StatusPastDue, "trialing": StatusTrialing} {
		if got, ok := statusOf(in); !ok || got != want {
			t.Errorf("%s: %s %v", in, got, ok)
		}
	}
	if _, ok := statusOf("bogus"); ok {
		t.Error("an unknown status was accepted")
	}
}
