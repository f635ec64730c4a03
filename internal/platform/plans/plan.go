package plans

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/paotui/paotui/internal/blueprint"
)

// Text is a name in the two languages every client speaks.
type Text = blueprint.Text

// Status is whether a plan is offered.
type Status string

const (
	// StatusActive plans are offered at signup and may be given to tenants.
	StatusActive Status = "active"
	// StatusRetired plans stay on the tenants that have them but are offered to no one else.
	StatusRetired Status = "retired"
)

// Plan is what a tenant subscribes to: its display prices, the Stripe prices behind them and
// the limits it puts on the tenant.
type Plan struct {
	ID            string       `json:"id" example:"pro"`
	Name          Text         `json:"name"`
	Currency      string       `json:"currency" example:"cny" doc:"ISO 4217, lower case as Stripe writes it."`
	MonthlyAmount int64        `json:"monthlyAmount" doc:"Display price per month in minor units (分)."`
	YearlyAmount  int64        `json:"yearlyAmount" doc:"Display price per year in minor units (分)."`
	TrialDays     int          `json:"trialDays"`
	Prices        StripePrices `json:"stripePrices"`
	Limits        Limits       `json:"limits"`
	Status        Status       `json:"status" enum:"active,retired"`
	Sort          int          `json:"sort" doc:"Display order on the pricing page, ascending."`
	CreatedAt     time.Time    `json:"createdAt"`
	UpdatedAt     time.Time    `json:"updatedAt"`
}

// StripePrices are the Stripe price ids of a plan; empty until a super-admin attaches them.
type StripePrices struct {
	Monthly string `json:"monthly,omitempty" maxLength:"206" example:"price_1PqA2bC3dE4fG5hI"`
	Yearly  string `json:"yearly,omitempty" maxLength:"206"`
	Metered string `json:"metered,omitempty" maxLength:"206" doc:"Usage-based price: one unit per order."`
}

// Limits are what a plan allows a tenant. A nil maximum is unlimited.
type Limits struct {
	MaxActiveCouriers *int64 `json:"maxActiveCouriers" minimum:"1" maximum:"10000000" doc:"Approved couriers; null is unlimited."`
	MaxOrdersPerMonth *int64 `json:"maxOrdersPerMonth" minimum:"1" maximum:"10000000" doc:"Orders per calendar month in the tenant's time zone; null is unlimited."`
	MaxStaffSeats     *int64 `json:"maxStaffSeats" minimum:"1" maximum:"10000000" doc:"Users holding a staff role; null is unlimited."`
	CustomDomain      bool   `json:"customDomain" doc:"Whether the tenant may serve on its own domain names."`
}

// Kind names one limit.
type Kind string

// The limits a plan sets.
const (
	// KindActiveCouriers counts approved courier profiles.
	KindActiveCouriers Kind = "active_couriers"
	// KindOrdersPerMonth counts orders created since the first of the month in the tenant's
	// time zone, except those that ended without being paid (see CountOrdersThisMonth).
	KindOrdersPerMonth Kind = "orders_per_month"
	// KindStaffSeats counts users holding a built-in staff role.
	KindStaffSeats Kind = "staff_seats"
	// KindCustomDomains counts the tenant's custom domains: none without Limits.CustomDomain,
	// any number with it.
	KindCustomDomains Kind = "custom_domains"
)

// Kinds are every limit, in display order.
var Kinds = []Kind{KindOrdersPerMonth, KindActiveCouriers, KindStaffSeats, KindCustomDomains}

// Max returns the limit of kind k and whether there is one.
func (l Limits) Max(k Kind) (int64, bool) {
	var p *int64
	switch k {
	case KindActiveCouriers:
		p = l.MaxActiveCouriers
	case KindOrdersPerMonth:
		p = l.MaxOrdersPerMonth
	case KindStaffSeats:
		p = l.MaxStaffSeats
	case KindCustomDomains:
		if l.CustomDomain {
			return 0, false
		}
		return 0, true
	default:
		return 0, false
	}
	if p == nil {
		return 0, false
	}
	return *p, true
}

// clone copies l, so a caller cannot change the cached maxima through the pointers.
func (l Limits) clone() Limits {
	cp := func(p *int64) *int64 {
		if p == nil {
			return nil
		}
		v := *p
		return &v
	}
	return Limits{MaxActiveCouriers: cp(l.MaxActiveCouriers), MaxOrdersPerMonth: cp(l.MaxOrdersPerMonth),
		MaxStaffSeats: cp(l.MaxStaffSeats), CustomDomain: l.CustomDomain}
}

// fits reports whether usage current may grow by one under l.
func (l Limits) fits(k Kind, current int64) bool {
	max, limited := l.Max(k)
	return !limited || current < max
}

// unlimited is what a tenant without a plan gets.
var unlimited = Limits{CustomDomain: true}

var (
	// ErrPlanNotFound is returned for a plan id that does not exist.
	ErrPlanNotFound = errors.New("plan not found")
	// ErrInvalidPlan matches every *InvalidError.
	ErrInvalidPlan = errors.New("invalid plan")
	// ErrPlanExists is returned when creating a plan whose id is taken.
	ErrPlanExists = errors.New("a plan with this id exists")
	// ErrPriceInUse is returned when a Stripe price id is already attached to another plan: a
	// price must name one plan, or a subscription could not tell which limits apply.
	ErrPriceInUse = errors.New("this Stripe price is attached to another plan")
	// ErrPlanRetired is returned when a retired plan is chosen for a tenant.
	ErrPlanRetired = errors.New("this plan is retired and can no longer be chosen")
	// ErrLastActivePlan is returned when retiring the only plan still offered: signup would
	// have nothing to offer.
	ErrLastActivePlan = errors.New("the last active plan cannot be retired")
	// ErrTenantNotFound is returned by SetTenantPlan for an unknown tenant.
	ErrTenantNotFound = errors.New("tenant not found")
	// ErrLimitReached matches every *LimitError.
	ErrLimitReached = errors.New("plan limit reached")
)

// InvalidError names the field of a plan that was refused and why. errors.Is matches
// ErrInvalidPlan.
type InvalidError struct {
	Field  string // JSON path in the plan, e.g. "name.zh", "limits.maxStaffSeats"
	Reason string
}

func (e *InvalidError) Error() string { return "invalid plan: " + e.Field + ": " + e.Reason }

// Unwrap returns ErrInvalidPlan.
func (e *InvalidError) Unwrap() error { return ErrInvalidPlan }

func invalid(field, format string, args ...any) *InvalidError {
	return &InvalidError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// LimitError is the refusal of Check: usage Current has reached Max of the tenant's plan.
// Upgrade is the cheapest active plan under which the usage could grow, nil when none could.
type LimitError struct {
	Kind    Kind
	Max     int64
	Current int64
	PlanID  string
	Upgrade *Plan
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("plan limit reached: %s is %d of %d on plan %s", e.Kind, e.Current, e.Max, e.PlanID)
}

// Unwrap returns ErrLimitReached.
func (e *LimitError) Unwrap() error { return ErrLimitReached }

var (
	idPattern    = regexp.MustCompile(`^[a-z][a-z0-9_-]{1,39}$`)
	pricePattern = regexp.MustCompile(`^price_[A-Za-z0-9_]{1,200}$`)
	currency     = regexp.MustCompile(`^[a-z]{3}$`)
)

const (
	maxNameRunes = 60
	// maxAmount is Stripe's largest charge in minor units for most currencies.
	maxAmount    = 99_999_999
	maxTrialDays = 365
	maxLimit     = 10_000_000
	maxSort      = 100_000
)

// normalize trims what people type by accident and lower-cases the currency.
func (p *Plan) normalize() {
	p.ID = strings.TrimSpace(p.ID)
	p.Name.ZH, p.Name.EN = strings.TrimSpace(p.Name.ZH), strings.TrimSpace(p.Name.EN)
	p.Currency = strings.ToLower(strings.TrimSpace(p.Currency))
	p.Prices.Monthly = strings.TrimSpace(p.Prices.Monthly)
	p.Prices.Yearly = strings.TrimSpace(p.Prices.Yearly)
	p.Prices.Metered = strings.TrimSpace(p.Prices.Metered)
}

// validate checks everything but the status, which only Create and Retire set. It returns
// the first *InvalidError in field order.
func (p *Plan) validate() error {
	if !idPattern.MatchString(p.ID) {
		return invalid("id", "must be 2-40 lowercase letters, digits, _ or -, starting with a letter")
	}
	for _, n := range []struct{ field, s string }{{"name.zh", p.Name.ZH}, {"name.en", p.Name.EN}} {
		if n.s == "" {
			return invalid(n.field, "is required")
		}
		if !utf8.ValidString(n.s) || utf8.RuneCountInString(n.s) > maxNameRunes {
			return invalid(n.field, "must be at most %d characters", maxNameRunes)
		}
	}
	if !currency.MatchString(p.Currency) {
		return invalid("currency", "must be a three-letter ISO 4217 code such as cny")
	}
	if p.MonthlyAmount < 0 || p.MonthlyAmount > maxAmount {
		return invalid("monthlyAmount", "must be 0..%d minor units", maxAmount)
	}
	if p.YearlyAmount < 0 || p.YearlyAmount > maxAmount {
		return invalid("yearlyAmount", "must be 0..%d minor units", maxAmount)
	}
	if p.TrialDays < 0 || p.TrialDays > maxTrialDays {
		return invalid("trialDays", "must be 0..%d", maxTrialDays)
	}
	seen := map[string]string{}
	for _, pr := range []struct{ field, id string }{
		{"stripePrices.monthly", p.Prices.Monthly}, {"stripePrices.yearly", p.Prices.Yearly}, {"stripePrices.metered", p.Prices.Metered},
	} {
		if pr.id == "" {
			continue
		}
		if !pricePattern.MatchString(pr.id) {
			return invalid(pr.field, "must be a Stripe price id (price_...)")
		}
		if other, dup := seen[pr.id]; dup {
			return invalid(pr.field, "is the same price as %s; each billing period needs its own price", other)
		}
		seen[pr.id] = pr.field
	}
	for _, l := range []struct {
		field string
		max   *int64
	}{
		{"limits.maxActiveCouriers", p.Limits.MaxActiveCouriers},
		{"limits.maxOrdersPerMonth", p.Limits.MaxOrdersPerMonth},
		{"limits.maxStaffSeats", p.Limits.MaxStaffSeats},
	} {
		if l.max != nil && (*l.max < 1 || *l.max > maxLimit) {
			return invalid(l.field, "must be 1..%d, or null for unlimited", maxLimit)
		}
	}
	if p.Sort < -maxSort || p.Sort > maxSort {
		return invalid("sort", "must be within ±%d", maxSort)
	}
	return nil
}

// Offered reports whether the plan may be chosen (signup, a super-admin's change).
func (p *Plan) Offered() bool { return p.Status == StatusActive }
