package billing

import (
	"time"

	"github.com/paotui/paotui/internal/platform/tenancy"
)

// Status is a subscription's state, Stripe's vocabulary plus none (a free plan without a Stripe
// subscription).
type Status string

// The statuses a subscription row can have.
const (
	StatusNone       Status = "none"
	StatusIncomplete Status = "incomplete"
	StatusTrialing   Status = "trialing"
	StatusActive     Status = "active"
	StatusPastDue    Status = "past_due"
	StatusUnpaid     Status = "unpaid"
	StatusCanceled   Status = "canceled"
	StatusPaused     Status = "paused"
)

// statusOf reads Stripe's status; incomplete_expired ends like a cancellation.
func statusOf(s string) (Status, bool) {
	switch s {
	case "incomplete_expired":
		return StatusCanceled, true
	case string(StatusIncomplete), string(StatusTrialing), string(StatusActive), string(StatusPastDue),
		string(StatusUnpaid), string(StatusCanceled), string(StatusPaused):
		return Status(s), true
	}
	return "", false
}

// owing is a subscription whose latest invoice is unpaid: the grace period runs.
func (s Status) owing() bool { return s == StatusPastDue || s == StatusUnpaid }

// serving is a subscription that pays for service.
func (s Status) serving() bool { return s == StatusActive || s == StatusTrialing || s == StatusNone }

// subRow is public.subscriptions.
type subRow struct {
	TenantID             int64 `gorm:"primaryKey"`
	PlanID               string
	BillingInterval      string
	Status               Status
	StripeCustomerID     *string
	StripeSubscriptionID *string
	CheckoutSessionID    *string
	CheckoutURL          string
	LicensedItemID       *string
	MeteredItemID        *string
	TrialEnd             *time.Time
	CurrentPeriodStart   *time.Time
	CurrentPeriodEnd     *time.Time
	CancelAtPeriodEnd    bool
	PastDueSince         *time.Time
	GraceUntil           *time.Time
	LastEventAt          *time.Time
	CreatedAt            time.Time
	UpdatedAt            time.Time
}

func (subRow) TableName() string { return "public.subscriptions" }

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func ptr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// settleGrace starts the grace period when the subscription starts owing and ends it when it
// stops. It reports whether a grace period started now (a check must then be scheduled).
func (r *subRow) settleGrace(now time.Time, grace time.Duration) (started bool) {
	if !r.Status.owing() {
		r.PastDueSince, r.GraceUntil = nil, nil
		return false
	}
	if r.PastDueSince != nil {
		return false
	}
	until := now.Add(grace)
	r.PastDueSince, r.GraceUntil = &now, &until
	return true
}

// Effect is what a subscription's state asks of its tenant.
type Effect int

const (
	// Keep leaves the tenant as it is.
	Keep Effect = iota
	// Serve lifts a billing hold.
	Serve
	// Pause puts the tenant on a billing hold.
	Pause
)

// effect decides the tenant's fate from the subscription at now: serving subscriptions serve,
// an owing one pauses once its grace period is over, a canceled, paused or never-completed one
// pauses. Checkout not yet completed keeps a provisioned tenant held (see Gate), but an
// incomplete change of an existing tenant leaves it serving.
func (r *subRow) effect(now time.Time) (Effect, string) {
	switch {
	case r.Status.serving():
		return Serve, "subscription " + string(r.Status)
	case r.Status.owing() && r.GraceUntil != nil && !now.Before(*r.GraceUntil):
		return Pause, "payment overdue: the grace period ended"
	case r.Status == StatusCanceled:
		return Pause, "subscription canceled"
	case r.Status == StatusPaused:
		return Pause, "subscription paused"
	}
	return Keep, ""
}

// initialHold is the hold a freshly provisioned tenant starts with.
func (r *subRow) initialHold(now time.Time) (tenancy.Hold, string) {
	if r.Status == StatusIncomplete {
		return tenancy.HoldBilling, "awaiting payment: checkout not completed"
	}
	if e, why := r.effect(now); e == Pause {
		return tenancy.HoldBilling, why
	}
	return tenancy.HoldNone, ""
}
