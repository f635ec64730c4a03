package plans

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/authz"
	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/settings"
)

// MonthStart is the first instant of now's calendar month in loc: the start of the period
// orders_per_month counts.
func MonthStart(now time.Time, loc *time.Location) time.Time {
	l := now.In(loc)
	return time.Date(l.Year(), l.Month(), 1, 0, 0, 0, 0, loc)
}

// CountOrdersThisMonth counts the orders created since the first of now's month in the
// tenant's time zone, and returns that start. Orders that ended without being paid (expired,
// or cancelled before payment) do not count: they cost the tenant nothing, and a student who
// opens and abandons orders must not use up the team's quota. Orders still awaiting payment
// do count, since they may yet be paid. tx must be the tenant's transaction (store.InTenant).
func CountOrdersThisMonth(tx *gorm.DB, now time.Time) (int64, time.Time, error) {
	loc, err := settings.Location(tx)
	if err != nil {
		return 0, time.Time{}, err
	}
	since := MonthStart(now, loc)
	n, err := CountOrdersSince(tx, since)
	return n, since, err
}

// CountOrdersSince counts the orders created since since that count as usage (see
// CountOrdersThisMonth); metered billing counts them per Stripe billing period.
func CountOrdersSince(tx *gorm.DB, since time.Time) (int64, error) {
	var n int64
	err := tx.Raw(`SELECT count(*) FROM orders WHERE created_at >= ?
		AND status <> 'expired' AND NOT (status = 'cancelled' AND paid_at IS NULL)`, since.UTC()).Scan(&n).Error
	if err != nil {
		return 0, fmt.Errorf("count orders: %w", err)
	}
	return n, nil
}

// CountActiveCouriers counts approved couriers. Pending, rejected and suspended profiles do
// not count: none of them can take orders. tx must be the tenant's transaction.
func CountActiveCouriers(tx *gorm.DB) (int64, error) {
	var n int64
	if err := tx.Raw(`SELECT count(*) FROM courier_profiles WHERE status = 'approved'`).Scan(&n).Error; err != nil {
		return 0, fmt.Errorf("count active couriers: %w", err)
	}
	return n, nil
}

// Count returns tenant t's current usage of kind.
func (s *Service) Count(ctx context.Context, t *tenancy.Tenant, kind Kind) (int64, error) {
	var n int64
	var err error
	switch kind {
	case KindOrdersPerMonth:
		err = s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
			n, _, err = CountOrdersThisMonth(tx, s.now())
			return err
		})
	case KindActiveCouriers:
		err = s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
			n, err = CountActiveCouriers(tx)
			return err
		})
	case KindStaffSeats:
		n, err = s.staffSeats(ctx, t)
	case KindCustomDomains:
		n, err = s.customDomains(ctx, t.ID)
	default:
		err = fmt.Errorf("plans: unknown limit %q", kind)
	}
	return n, err
}

// staffSeats counts users holding at least one built-in staff role; holding several takes one
// seat.
func (s *Service) staffSeats(ctx context.Context, t *tenancy.Tenant) (int64, error) {
	m, err := s.members.Members(ctx, t, authz.StaffRoles())
	if err != nil {
		return 0, fmt.Errorf("count staff seats: %w", err)
	}
	return int64(len(m)), nil
}

// customDomains counts the tenant's custom domains, verified or not: a pending domain is
// already claimed.
func (s *Service) customDomains(ctx context.Context, tenantID int64) (int64, error) {
	var n int64
	err := s.db.Gorm.WithContext(ctx).Raw(`SELECT count(*) FROM public.tenant_domains WHERE tenant_id = ?`, tenantID).Scan(&n).Error
	if err != nil {
		return 0, fmt.Errorf("count custom domains: %w", err)
	}
	return n, nil
}

// Usage is a tenant's plan, its limits and how much of each it uses.
type Usage struct {
	Plan        *Plan // nil: no plan, no limits
	Limits      Limits
	PeriodStart time.Time // start of the month orders are counted from, in the tenant's zone
	Items       []UsageItem
}

// UsageItem is one limit and its usage.
type UsageItem struct {
	Kind Kind
	Used int64
	Max  *int64 // nil: unlimited
}

// Usage returns tenant t's plan, limits and current usage of every limit, read fresh (not
// from the limits cache), in Kinds order.
func (s *Service) Usage(ctx context.Context, t *tenancy.Tenant) (Usage, error) {
	var u Usage
	var err error
	if u.Plan, err = s.TenantPlan(ctx, t.ID); err != nil {
		return Usage{}, err
	}
	u.Limits = unlimited
	if u.Plan != nil {
		u.Limits = u.Plan.Limits
	}
	used := map[Kind]int64{}
	err = s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		var err error
		if used[KindOrdersPerMonth], u.PeriodStart, err = CountOrdersThisMonth(tx, s.now()); err != nil {
			return err
		}
		used[KindActiveCouriers], err = CountActiveCouriers(tx)
		return err
	})
	if err != nil {
		return Usage{}, err
	}
	if used[KindStaffSeats], err = s.staffSeats(ctx, t); err != nil {
		return Usage{}, err
	}
	if used[KindCustomDomains], err = s.customDomains(ctx, t.ID); err != nil {
		return Usage{}, err
	}
	for _, k := range Kinds {
		it := UsageItem{Kind: k, Used: used[k]}
		if max, limited := u.Limits.Max(k); limited {
			it.Max = &max
		}
		u.Items = append(u.Items, it)
	}
	return u, nil
}
