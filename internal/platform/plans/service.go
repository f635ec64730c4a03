package plans

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/audit"
	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/store"
)

// Members is what the staff-seat count needs of authz: the tenant's users holding any of
// roles (authz.Authorizer implements it).
type Members interface {
	Members(ctx context.Context, t *tenancy.Tenant, roles []string) (map[string][]string, error)
}

// limitsTTL bounds how long a replica keeps a tenant's limits after its plan changed
// elsewhere. Changes made through this process's Service are seen at once; other replicas
// catch up within the TTL, which is short enough that an upgrade paid for is usable
// "immediately" from the customer's point of view, and long enough that the check before
// every order costs no query.
const limitsTTL = 15 * time.Second

// Service manages plans and answers limit questions. It is safe for concurrent use.
type Service struct {
	db      *store.DB
	members Members
	now     func() time.Time

	mu    sync.Mutex
	cache map[int64]cachedPlan
	// gen grows with every invalidation; a lookup that started under an older gen is
	// returned but not cached, so a read racing a plan change cannot put the old limits back.
	gen uint64
}

type cachedPlan struct {
	planID  string
	limits  Limits
	expires time.Time
}

// NewService returns the plans service over db; members counts staff seats.
func NewService(db *store.DB, members Members) *Service {
	return &Service{db: db, members: members, now: time.Now, cache: map[int64]cachedPlan{}}
}

// Page bounds of the plan lists.
const (
	DefaultLimit = 50
	MaxLimit     = 100
)

// ListFilter narrows List.
type ListFilter struct {
	IncludeRetired bool
	Limit, Offset  int // Limit 0 means DefaultLimit; at most MaxLimit
}

// List returns one page of plans in pricing-page order (sort, then price) and how many match.
func (s *Service) List(ctx context.Context, f ListFilter) ([]Plan, int64, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	return listPlans(s.db.Gorm.WithContext(ctx), f.IncludeRetired, min(limit, MaxLimit), max(f.Offset, 0))
}

// Get returns the plan id, retired or not. Errors: ErrPlanNotFound.
func (s *Service) Get(ctx context.Context, id string) (Plan, error) {
	return getPlan(s.db.Gorm.WithContext(ctx), id, false)
}

// ForSignup returns the plan id if it may be chosen by a new tenant. Errors: ErrPlanNotFound,
// ErrPlanRetired.
func (s *Service) ForSignup(ctx context.Context, id string) (Plan, error) {
	p, err := s.Get(ctx, id)
	if err != nil {
		return Plan{}, err
	}
	if !p.Offered() {
		return Plan{}, ErrPlanRetired
	}
	return p, nil
}

// TenantCounts maps each plan id to the number of tenants (not deleted) on it.
func (s *Service) TenantCounts(ctx context.Context) (map[string]int64, error) {
	return tenantCounts(s.db.Gorm.WithContext(ctx))
}

// Create adds an active plan. by names the actor and IP of the platform audit entry. Errors:
// *InvalidError, ErrPlanExists, ErrPriceInUse.
func (s *Service) Create(ctx context.Context, p Plan, by audit.Entry) (Plan, error) {
	p.normalize()
	if err := p.validate(); err != nil {
		return Plan{}, err
	}
	now := s.now().UTC()
	p.Status, p.CreatedAt, p.UpdatedAt = StatusActive, now, now
	err := s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := checkPrices(tx, p); err != nil {
			return err
		}
		if err := insertPlan(tx, p); err != nil {
			return err
		}
		by.Action, by.Target = "plan.create", "plan:"+p.ID
		return audit.RecordPlatform(tx, nil, by)
	})
	if err != nil {
		return Plan{}, err
	}
	return s.Get(ctx, p.ID)
}

// Update replaces the plan p.ID's names, prices, trial, limits and sort; the status stays
// (see Retire). Tenants on the plan get its new limits at once on this replica and within
// limitsTTL elsewhere. Errors: ErrPlanNotFound, *InvalidError, ErrPriceInUse.
func (s *Service) Update(ctx context.Context, p Plan, by audit.Entry) (Plan, error) {
	p.normalize()
	if err := p.validate(); err != nil {
		return Plan{}, err
	}
	err := s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		old, err := getPlan(tx, p.ID, true)
		if err != nil {
			return err
		}
		if err := checkPrices(tx, p); err != nil {
			return err
		}
		p.UpdatedAt = s.now().UTC()
		if err := updatePlan(tx, p); err != nil {
			return err
		}
		by.Action, by.Target = "plan.update", "plan:"+p.ID
		by.Meta = map[string]any{"changed": changed(old, p)}
		return audit.RecordPlatform(tx, nil, by)
	})
	if err != nil {
		return Plan{}, err
	}
	s.invalidateAll()
	return s.Get(ctx, p.ID)
}

// Retire stops offering the plan id; tenants on it keep it and its limits. Retiring a retired
// plan changes nothing. Errors: ErrPlanNotFound, ErrLastActivePlan.
func (s *Service) Retire(ctx context.Context, id string, by audit.Entry) (Plan, error) {
	err := s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// Lock every active plan, not just this one, so two super-admins retiring the last two
		// plans at once cannot both see the other still active.
		var active []string
		if err := tx.Raw(`SELECT id FROM public.plans WHERE status = 'active' ORDER BY id FOR UPDATE`).Scan(&active).Error; err != nil {
			return fmt.Errorf("lock active plans: %w", err)
		}
		p, err := getPlan(tx, id, true)
		if err != nil {
			return err
		}
		if p.Status == StatusRetired {
			return nil
		}
		if len(active) <= 1 {
			return ErrLastActivePlan
		}
		if err := tx.Exec(`UPDATE public.plans SET status = 'retired', updated_at = ? WHERE id = ?`, s.now().UTC(), id).Error; err != nil {
			return fmt.Errorf("retire plan %q: %w", id, err)
		}
		by.Action, by.Target = "plan.retire", "plan:"+id
		return audit.RecordPlatform(tx, nil, by)
	})
	if err != nil {
		return Plan{}, err
	}
	return s.Get(ctx, id)
}

// SetTenantPlan puts tenant tenantID on plan planID and records who did it and why in the
// platform audit log. The plan must be offered, unless the tenant already has it (then nothing
// changes). Limits above the tenant's current usage are not refused: the tenant keeps what it
// has and is stopped at the next order, courier or seat. Errors: ErrTenantNotFound,
// ErrPlanNotFound, ErrPlanRetired.
func (s *Service) SetTenantPlan(ctx context.Context, tenantID int64, planID, actor, reason string) error {
	if actor == "" {
		return errors.New("plans: SetTenantPlan needs an actor")
	}
	err := s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		slug, from, err := tenantPlanID(tx, tenantID, true)
		if err != nil {
			return err
		}
		if from == planID {
			return nil
		}
		p, err := getPlan(tx, planID, false)
		if err != nil {
			return err
		}
		if !p.Offered() {
			return ErrPlanRetired
		}
		if err := tx.Exec(`UPDATE public.tenants SET plan_id = ?, updated_at = ? WHERE id = ?`,
			planID, s.now().UTC(), tenantID).Error; err != nil {
			return fmt.Errorf("set plan of tenant %d: %w", tenantID, err)
		}
		return audit.RecordPlatform(tx, &tenantID, audit.Entry{Actor: actor, Action: "tenant.plan.set", Target: "tenant:" + slug,
			Meta: map[string]any{"from": from, "to": planID, "reason": reason}})
	})
	if err != nil {
		return err
	}
	s.invalidate(tenantID)
	return nil
}

// TenantPlan returns the plan of tenant tenantID, nil when it has none. Errors:
// ErrTenantNotFound.
func (s *Service) TenantPlan(ctx context.Context, tenantID int64) (*Plan, error) {
	_, id, err := tenantPlanID(s.db.Gorm.WithContext(ctx), tenantID, false)
	if err != nil || id == "" {
		return nil, err
	}
	p, err := getPlan(s.db.Gorm.WithContext(ctx), id, false)
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// Limits returns what tenant tenantID's plan allows; a tenant without a plan is unlimited.
// Answers are cached in the process for a few seconds (see limitsTTL). Errors:
// ErrTenantNotFound.
func (s *Service) Limits(ctx context.Context, tenantID int64) (Limits, error) {
	c, err := s.lookup(ctx, tenantID)
	return c.limits.clone(), err
}

func (s *Service) lookup(ctx context.Context, tenantID int64) (cachedPlan, error) {
	now := s.now()
	s.mu.Lock()
	c, ok := s.cache[tenantID]
	gen := s.gen
	s.mu.Unlock()
	if ok && now.Before(c.expires) {
		return c, nil
	}
	db := s.db.Gorm.WithContext(ctx)
	_, planID, err := tenantPlanID(db, tenantID, false)
	if err != nil {
		return cachedPlan{}, err
	}
	c = cachedPlan{limits: unlimited, expires: now.Add(limitsTTL)}
	if planID != "" {
		p, err := getPlan(db, planID, false)
		if err != nil {
			return cachedPlan{}, err
		}
		c.planID, c.limits = p.ID, p.Limits
	}
	s.mu.Lock()
	if s.gen == gen {
		s.cache[tenantID] = c
	}
	s.mu.Unlock()
	return c, nil
}

func (s *Service) invalidate(tenantID int64) {
	s.mu.Lock()
	delete(s.cache, tenantID)
	s.gen++
	s.mu.Unlock()
}

func (s *Service) invalidateAll() {
	s.mu.Lock()
	s.cache = map[int64]cachedPlan{}
	s.gen++
	s.mu.Unlock()
}

// Check returns nil when usage current of kind may grow by one under tenant tenantID's plan,
// and otherwise a *LimitError (errors.Is ErrLimitReached) naming the cheapest active plan that
// would allow it. Call it before the action that adds one (an order, a courier approval, a
// staff grant), with the usage counted just before.
//
// The check is not atomic with the action: two requests racing past it may overshoot the limit
// by one each. Limits are commercial, not safety, bounds, so this is accepted rather than
// serialising every order of a tenant on one lock.
func (s *Service) Check(ctx context.Context, tenantID int64, kind Kind, current int64) error {
	c, err := s.lookup(ctx, tenantID)
	if err != nil {
		return err
	}
	if c.limits.fits(kind, current) {
		return nil
	}
	max, _ := c.limits.Max(kind)
	le := &LimitError{Kind: kind, Max: max, Current: current, PlanID: c.planID}
	if le.Upgrade, err = s.upgradeFor(ctx, kind, current, c.planID); err != nil {
		return err
	}
	return le
}

// upgradeFor is the cheapest active plan other than planID under which usage current of kind
// may grow by one, or nil.
func (s *Service) upgradeFor(ctx context.Context, kind Kind, current int64, planID string) (*Plan, error) {
	offered, err := activePlans(s.db.Gorm.WithContext(ctx))
	if err != nil {
		return nil, err
	}
	for _, p := range offered {
		if p.ID != planID && p.Limits.fits(kind, current) {
			return &p, nil
		}
	}
	return nil, nil
}

// Allow counts tenant t's usage of kind and checks it (Count, then Check).
func (s *Service) Allow(ctx context.Context, t *tenancy.Tenant, kind Kind) error {
	n, err := s.Count(ctx, t, kind)
	if err != nil {
		return err
	}
	return s.Check(ctx, t.ID, kind, n)
}

// checkPrices refuses Stripe prices attached to another plan.
func checkPrices(tx *gorm.DB, p Plan) error {
	owner, err := priceOwner(tx, p.ID, p.Prices)
	if err != nil {
		return err
	}
	if owner != "" {
		return fmt.Errorf("%w (%s)", ErrPriceInUse, owner)
	}
	return nil
}

// changed names the fields of a plan an update changed, for the audit log.
func changed(old, p Plan) []string {
	eq := func(a, b *int64) bool { return a == nil && b == nil || a != nil && b != nil && *a == *b }
	var out []string
	for _, f := range []struct {
		name string
		same bool
	}{
		{"name.zh", old.Name.ZH == p.Name.ZH}, {"name.en", old.Name.EN == p.Name.EN},
		{"currency", old.Currency == p.Currency},
		{"monthlyAmount", old.MonthlyAmount == p.MonthlyAmount}, {"yearlyAmount", old.YearlyAmount == p.YearlyAmount},
		{"trialDays", old.TrialDays == p.TrialDays},
		{"stripePrices.monthly", old.Prices.Monthly == p.Prices.Monthly},
		{"stripePrices.yearly", old.Prices.Yearly == p.Prices.Yearly},
		{"stripePrices.metered", old.Prices.Metered == p.Prices.Metered},
		{"limits.maxActiveCouriers", eq(old.Limits.MaxActiveCouriers, p.Limits.MaxActiveCouriers)},
		{"limits.maxOrdersPerMonth", eq(old.Limits.MaxOrdersPerMonth, p.Limits.MaxOrdersPerMonth)},
		{"limits.maxStaffSeats", eq(old.Limits.MaxStaffSeats, p.Limits.MaxStaffSeats)},
		{"limits.customDomain", old.Limits.CustomDomain == p.Limits.CustomDomain},
		{"sort", old.Sort == p.Sort},
	} {
		if !f.same {
			out = append(out, f.name)
		}
	}
	if out == nil {
		out = []string{}
	}
	return out
}
