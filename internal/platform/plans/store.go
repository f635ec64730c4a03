package plans

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
)

// The functions here work on the *gorm.DB they are given: the pool, a control-plane
// transaction, or a tenant transaction (public tables are schema-qualified, so they resolve
// from any search_path).

type planRow struct {
	ID                string
	NameZh            string
	NameEn            string
	MonthlyPriceID    *string
	YearlyPriceID     *string
	MeteredPriceID    *string
	Currency          string
	MonthlyAmount     int64
	YearlyAmount      int64
	TrialDays         int
	MaxActiveCouriers *int64
	MaxOrdersPerMonth *int64
	MaxStaffSeats     *int64
	CustomDomain      bool
	Status            string
	Sort              int
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

const planColumns = `id, name_zh, name_en, monthly_price_id, yearly_price_id, metered_price_id, currency,
	monthly_amount, yearly_amount, trial_days, max_active_couriers, max_orders_per_month, max_staff_seats,
	custom_domain, status, sort, created_at, updated_at`

// orderBy is the pricing page's order; ties fall to the cheaper plan, then the id.
const orderBy = `ORDER BY sort, monthly_amount, id`

func (r planRow) plan() Plan {
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	return Plan{
		ID: r.ID, Name: Text{ZH: r.NameZh, EN: r.NameEn}, Currency: r.Currency,
		MonthlyAmount: r.MonthlyAmount, YearlyAmount: r.YearlyAmount, TrialDays: r.TrialDays,
		Prices: StripePrices{Monthly: str(r.MonthlyPriceID), Yearly: str(r.YearlyPriceID), Metered: str(r.MeteredPriceID)},
		Limits: Limits{MaxActiveCouriers: r.MaxActiveCouriers, MaxOrdersPerMonth: r.MaxOrdersPerMonth,
			MaxStaffSeats: r.MaxStaffSeats, CustomDomain: r.CustomDomain},
		Status: Status(r.Status), Sort: r.Sort, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
}

// nullable stores "" as NULL: an unattached price.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func getPlan(tx *gorm.DB, id string, lock bool) (Plan, error) {
	q := `SELECT ` + planColumns + ` FROM public.plans WHERE id = ?`
	if lock {
		q += ` FOR UPDATE`
	}
	var rows []planRow
	if err := tx.Raw(q, id).Scan(&rows).Error; err != nil {
		return Plan{}, fmt.Errorf("read plan %q: %w", id, err)
	}
	if len(rows) == 0 {
		return Plan{}, ErrPlanNotFound
	}
	return rows[0].plan(), nil
}

// listPlans returns one page of plans in pricing-page order and how many there are in all.
func listPlans(tx *gorm.DB, includeRetired bool, limit, offset int) ([]Plan, int64, error) {
	cond := `true`
	if !includeRetired {
		cond = `status = 'active'`
	}
	var total int64
	if err := tx.Raw(`SELECT count(*) FROM public.plans WHERE ` + cond).Scan(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("count plans: %w", err)
	}
	var rows []planRow
	err := tx.Raw(`SELECT `+planColumns+` FROM public.plans WHERE `+cond+` `+orderBy+` LIMIT ? OFFSET ?`, limit, offset).
		Scan(&rows).Error
	if err != nil {
		return nil, 0, fmt.Errorf("list plans: %w", err)
	}
	out := make([]Plan, len(rows))
	for i, r := range rows {
		out[i] = r.plan()
	}
	return out, total, nil
}

// activePlans returns every offered plan, cheapest first (upgrade hints).
func activePlans(tx *gorm.DB) ([]Plan, error) {
	var rows []planRow
	err := tx.Raw(`SELECT ` + planColumns + ` FROM public.plans WHERE status = 'active' ORDER BY monthly_amount, sort, id`).
		Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("list active plans: %w", err)
	}
	out := make([]Plan, len(rows))
	for i, r := range rows {
		out[i] = r.plan()
	}
	return out, nil
}

// priceOwner returns the plan other than id that has one of prices attached, or "".
func priceOwner(tx *gorm.DB, id string, p StripePrices) (string, error) {
	var ids []string
	for _, v := range []string{p.Monthly, p.Yearly, p.Metered} {
		if v != "" {
			ids = append(ids, v)
		}
	}
	if len(ids) == 0 {
		return "", nil
	}
	var owners []string
	err := tx.Raw(`SELECT id FROM public.plans WHERE id <> ?
		AND (monthly_price_id IN ? OR yearly_price_id IN ? OR metered_price_id IN ?) ORDER BY id LIMIT 1`,
		id, ids, ids, ids).Scan(&owners).Error
	if err != nil || len(owners) == 0 {
		return "", err
	}
	return owners[0], nil
}

func insertPlan(tx *gorm.DB, p Plan) error {
	res := tx.Exec(`INSERT INTO public.plans (id, name_zh, name_en, monthly_price_id, yearly_price_id, metered_price_id,
			currency, monthly_amount, yearly_amount, trial_days, max_active_couriers, max_orders_per_month, max_staff_seats,
			custom_domain, status, sort, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
		p.ID, p.Name.ZH, p.Name.EN, nullable(p.Prices.Monthly), nullable(p.Prices.Yearly), nullable(p.Prices.Metered),
		p.Currency, p.MonthlyAmount, p.YearlyAmount, p.TrialDays, p.Limits.MaxActiveCouriers, p.Limits.MaxOrdersPerMonth,
		p.Limits.MaxStaffSeats, p.Limits.CustomDomain, string(p.Status), p.Sort, p.CreatedAt, p.UpdatedAt)
	if res.Error != nil {
		return mapWriteErr(res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrPlanExists
	}
	return nil
}

func updatePlan(tx *gorm.DB, p Plan) error {
	res := tx.Exec(`UPDATE public.plans SET name_zh = ?, name_en = ?, monthly_price_id = ?, yearly_price_id = ?,
			metered_price_id = ?, currency = ?, monthly_amount = ?, yearly_amount = ?, trial_days = ?,
			max_active_couriers = ?, max_orders_per_month = ?, max_staff_seats = ?, custom_domain = ?, sort = ?,
			updated_at = ?
		WHERE id = ?`,
		p.Name.ZH, p.Name.EN, nullable(p.Prices.Monthly), nullable(p.Prices.Yearly), nullable(p.Prices.Metered),
		p.Currency, p.MonthlyAmount, p.YearlyAmount, p.TrialDays, p.Limits.MaxActiveCouriers, p.Limits.MaxOrdersPerMonth,
		p.Limits.MaxStaffSeats, p.Limits.CustomDomain, p.Sort, p.UpdatedAt, p.ID)
	if res.Error != nil {
		return mapWriteErr(res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrPlanNotFound
	}
	return nil
}

// mapWriteErr turns a unique violation on a price column (a concurrent writer attached the
// same price) into ErrPriceInUse; priceOwner catches the common case without a failing
// statement.
func mapWriteErr(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" && strings.Contains(pe.ConstraintName, "price_id") {
		return ErrPriceInUse
	}
	// With gorm's TranslateError the violation arrives as ErrDuplicatedKey; the plan id's own
	// conflict never does (ON CONFLICT DO NOTHING), so the prices are the only unique keys left.
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return ErrPriceInUse
	}
	return fmt.Errorf("write plan: %w", err)
}

// tenantCounts maps plan ids to how many tenants (not deleted) are on each.
func tenantCounts(tx *gorm.DB) (map[string]int64, error) {
	var rows []struct {
		PlanID string
		N      int64
	}
	err := tx.Raw(`SELECT plan_id, count(*) AS n FROM public.tenants
		WHERE plan_id IS NOT NULL AND status <> 'deleted' GROUP BY plan_id`).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("count tenants per plan: %w", err)
	}
	out := make(map[string]int64, len(rows))
	for _, r := range rows {
		out[r.PlanID] = r.N
	}
	return out, nil
}

// tenantPlanID reads the plan of tenant id ("" for none), locking the tenant row when lock.
func tenantPlanID(tx *gorm.DB, id int64, lock bool) (slug, planID string, err error) {
	q := `SELECT slug, coalesce(plan_id, '') AS plan_id FROM public.tenants WHERE id = ?`
	if lock {
		q += ` FOR UPDATE`
	}
	var rows []struct{ Slug, PlanID string }
	if err := tx.Raw(q, id).Scan(&rows).Error; err != nil {
		return "", "", fmt.Errorf("read plan of tenant %d: %w", id, err)
	}
	if len(rows) == 0 {
		return "", "", ErrTenantNotFound
	}
	return rows[0].Slug, rows[0].PlanID, nil
}

// GetIn reads plan id inside tx (for callers composing a control-plane transaction).
func GetIn(tx *gorm.DB, id string) (Plan, error) { return getPlan(tx, id, false) }

// ForPrice returns the plan one of whose Stripe prices is price, and which of them it is
// ("monthly", "yearly" or "metered"). Errors: ErrPlanNotFound.
func ForPrice(tx *gorm.DB, price string) (Plan, string, error) {
	var ids []string
	if err := tx.Raw(`SELECT id FROM public.plans WHERE ? IN (monthly_price_id, yearly_price_id, metered_price_id) LIMIT 1`,
		price).Scan(&ids).Error; err != nil {
		return Plan{}, "", err
	}
	if len(ids) == 0 {
		return Plan{}, "", ErrPlanNotFound
	}
	p, err := getPlan(tx, ids[0], false)
	if err != nil {
		return Plan{}, "", err
	}
	switch price {
	case p.Prices.Monthly:
		return p, "monthly", nil
	case p.Prices.Yearly:
		return p, "yearly", nil
	}
	return p, "metered", nil
}
