package admin

import (
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/settings"
)

// The control-plane reads below go to public.tenants and public.plans directly: the
// registry's list has no plan column and no plan filter, and these are read-only reports.

func listTenants(db *gorm.DB, f ListFilter) ([]PlatformTenant, int64, error) {
	where := []string{"true"}
	var args []any
	if f.Status != "" {
		where = append(where, "status = ?")
		args = append(args, f.Status)
	}
	if f.PlanID != "" {
		where = append(where, "plan_id = ?")
		args = append(args, f.PlanID)
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		like := "%" + escapeLike(q) + "%"
		where = append(where, "(slug ILIKE ? OR name ILIKE ?)")
		args = append(args, like, like)
	}
	cond := strings.Join(where, " AND ")
	var total int64
	if err := db.Raw(`SELECT count(*) FROM public.tenants WHERE `+cond, args...).Scan(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("count tenants: %w", err)
	}
	out := []PlatformTenant{}
	err := db.Raw(`SELECT id, slug, name, status, status_reason, plan_id, created_at FROM public.tenants WHERE `+cond+
		` ORDER BY id LIMIT ? OFFSET ?`, append(args, f.Limit, f.Offset)...).Scan(&out).Error
	if err != nil {
		return nil, 0, fmt.Errorf("list tenants: %w", err)
	}
	return out, total, nil
}

func getTenant(db *gorm.DB, id int64) (*PlatformTenant, error) {
	var rows []PlatformTenant
	if err := db.Raw(`SELECT id, slug, name, status, status_reason, plan_id, created_at FROM public.tenants WHERE id = ?`, id).
		Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("read tenant %d: %w", id, err)
	}
	if len(rows) == 0 {
		return nil, ErrTenantNotFound
	}
	return &rows[0], nil
}

func escapeLike(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

// readFigures reads GMV, order counts and couriers. tx must be the tenant's transaction.
// GMV counts every order that reached completion, net of its refunds: an order refunded
// after completion keeps completed_at and adds what was not given back.
func readFigures(tx *gorm.DB, now time.Time) (*TenantFigures, error) {
	loc, err := settings.Location(tx)
	if err != nil {
		return nil, err
	}
	since := monthStart(now, loc)
	f := &TenantFigures{Orders: map[string]int64{}}
	for _, s := range OrderStatuses {
		f.Orders[s] = 0
	}
	var gmv []struct{ ThisMonth, AllTime int64 }
	if err := tx.Raw(`SELECT
			coalesce(sum(paid_amount - refunded_amount) FILTER (WHERE completed_at >= ?), 0) AS this_month,
			coalesce(sum(paid_amount - refunded_amount), 0) AS all_time
		FROM orders WHERE completed_at IS NOT NULL`, since.UTC()).Scan(&gmv).Error; err != nil {
		return nil, fmt.Errorf("gmv: %w", err)
	}
	if len(gmv) == 1 {
		f.GMV = TenantGMV{ThisMonth: gmv[0].ThisMonth, AllTime: gmv[0].AllTime}
	}
	var counts []struct {
		Status string
		N      int64
	}
	if err := tx.Raw(`SELECT status, count(*) AS n FROM orders GROUP BY status`).Scan(&counts).Error; err != nil {
		return nil, fmt.Errorf("orders by status: %w", err)
	}
	for _, c := range counts {
		f.Orders[c.Status] = c.N
	}
	if err := tx.Raw(`SELECT count(*) FILTER (WHERE status = 'approved') AS approved, count(*) FILTER (WHERE online) AS online
		FROM courier_profiles`).Scan(&f.Couriers).Error; err != nil {
		return nil, fmt.Errorf("couriers: %w", err)
	}
	return f, nil
}

// monthGMV is GMV of orders completed since since. tx must be the tenant's transaction.
func monthGMV(tx *gorm.DB, since time.Time) (int64, error) {
	var n int64
	err := tx.Raw(`SELECT coalesce(sum(paid_amount - refunded_amount), 0) FROM orders WHERE completed_at >= ?`, since.UTC()).
		Scan(&n).Error
	if err != nil {
		return 0, fmt.Errorf("gmv this month: %w", err)
	}
	return n, nil
}

func monthStart(now time.Time, loc *time.Location) time.Time {
	l := now.In(loc)
	return time.Date(l.Year(), l.Month(), 1, 0, 0, 0, 0, loc)
}

func tenantsByStatus(db *gorm.DB) (map[string]int64, error) {
	var rows []struct {
		Status string
		N      int64
	}
	if err := db.Raw(`SELECT status, count(*) AS n FROM public.tenants GROUP BY status`).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("tenants by status: %w", err)
	}
	out := map[string]int64{"provisioning": 0, "active": 0, "suspended": 0, "deleted": 0}
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out, nil
}

// signupWeeks counts tenants created in each of the weeks ISO weeks ending with now's, in loc.
func signupWeeks(db *gorm.DB, now time.Time, loc *time.Location, weeks int) ([]SignupWeek, error) {
	l := now.In(loc)
	day := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, loc)
	monday := day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
	first := monday.AddDate(0, 0, -7*(weeks-1))
	var created []time.Time
	if err := db.Raw(`SELECT created_at FROM public.tenants WHERE created_at >= ?`, first.UTC()).
		Scan(&created).Error; err != nil {
		return nil, fmt.Errorf("signups: %w", err)
	}
	out := make([]SignupWeek, weeks)
	for i := range out {
		start := first.AddDate(0, 0, 7*i)
		y, w := start.ISOWeek()
		out[i] = SignupWeek{Week: fmt.Sprintf("%04d-W%02d", y, w), WeekStart: start}
	}
	for _, c := range created {
		i := int(c.In(loc).Sub(first).Hours() / (24 * 7))
		if i >= 0 && i < weeks {
			out[i].Signups++
		}
	}
	return out, nil
}

func activeMRR(db *gorm.DB) ([]PlatformMRR, error) {
	out := []PlatformMRR{}
	// A tenant with a subscription counts while it is billed (a trial is not revenue yet; a
	// past-due one still owes), at a twelfth of the yearly price when billed yearly. A tenant an
	// operator put on a plan without a subscription counts at the plan's monthly price.
	err := db.Raw(`SELECT p.currency,
			sum(CASE WHEN s.billing_interval = 'year' THEN p.yearly_amount / 12 ELSE p.monthly_amount END) AS amount,
			count(*) AS tenants
		FROM public.tenants t JOIN public.plans p ON p.id = t.plan_id
		LEFT JOIN public.subscriptions s ON s.tenant_id = t.id
		WHERE t.status = 'active' AND (s.tenant_id IS NULL OR s.status IN ('active', 'past_due', 'unpaid'))
		GROUP BY p.currency ORDER BY p.currency`).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("mrr: %w", err)
	}
	return out, nil
}
