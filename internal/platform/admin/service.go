package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/sync/errgroup"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/paotui/paotui/internal/audit"
	"github.com/paotui/paotui/internal/platform/billing"
	"github.com/paotui/paotui/internal/platform/plans"
	"github.com/paotui/paotui/internal/platform/provision"
	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/store"
)

// ProvisionProgress reports how far a tenant's provisioning got (provision.Service
// implements it).
type ProvisionProgress interface {
	Progress(ctx context.Context, id int64) (*provision.Progress, error)
}

// dashboardConcurrency bounds how many tenant schemas the dashboard reads at once, so one
// dashboard load takes at most this many pool connections however many tenants there are.
const dashboardConcurrency = 4

// signupWeeksShown is how many ISO weeks the dashboard's signup series covers.
const signupWeeksShown = 12

// platformZone is where the platform's weeks start. The platform has no zone setting of its
// own; this is the tenants' default zone, where the product's customers are.
const platformZone = "Asia/Shanghai"

const maxReasonRunes = 200

// Service answers the super-admin's questions about tenants and changes their status and
// plan. It is safe for concurrent use.
type Service struct {
	db       *store.DB
	reg      *tenancy.Registry
	resolver *tenancy.Resolver
	plans    *plans.Service
	progress ProvisionProgress
	billing  Subscriptions
	log      *slog.Logger
	now      func() time.Time
	zone     *time.Location
}

// New returns the service. resolver is told about status changes so every replica stops
// (or resumes) serving the tenant at once.
func New(db *store.DB, reg *tenancy.Registry, resolver *tenancy.Resolver, plans *plans.Service, log *slog.Logger) *Service {
	zone, err := time.LoadLocation(platformZone)
	if err != nil {
		zone = time.FixedZone("CST", 8*3600)
	}
	return &Service{db: db, reg: reg, resolver: resolver, plans: plans, log: log, now: time.Now, zone: zone}
}

// WithProvisioning lets the tenant detail show provisioning progress; without it the field
// stays empty.
func (s *Service) WithProvisioning(p ProvisionProgress) *Service {
	s.progress = p
	return s
}

// Subscriptions shows a tenant's subscription (billing.Service implements it).
type Subscriptions interface {
	ViewOf(ctx context.Context, id int64) (*billing.BillingView, error)
	MoveForPlatform(ctx context.Context, t *tenancy.Tenant, planID, actor, reason string) (bool, error)
}

// WithBilling lets the tenant detail show the subscription.
func (s *Service) WithBilling(b Subscriptions) *Service {
	s.billing = b
	return s
}

// List returns one page of tenants by id and how many match.
func (s *Service) List(ctx context.Context, f ListFilter) ([]PlatformTenant, int64, error) {
	if f.Limit <= 0 {
		f.Limit = DefaultLimit
	}
	f.Limit, f.Offset = min(f.Limit, MaxLimit), max(f.Offset, 0)
	return listTenants(s.db.Gorm.WithContext(ctx), f)
}

// Tenant returns tenant id with its plan usage and figures. Errors: ErrTenantNotFound.
func (s *Service) Tenant(ctx context.Context, id int64) (*TenantDetail, error) {
	sum, err := getTenant(s.db.Gorm.WithContext(ctx), id)
	if err != nil {
		return nil, err
	}
	d := &TenantDetail{PlatformTenant: *sum}
	if s.billing != nil {
		if d.Subscription, err = s.billing.ViewOf(ctx, id); err != nil {
			return nil, s.notFound(err)
		}
	}
	switch sum.Status {
	case tenancy.StatusActive, tenancy.StatusSuspended:
		t, err := s.reg.ByID(ctx, id)
		if err != nil {
			return nil, s.notFound(err)
		}
		u, err := s.plans.Usage(ctx, t)
		if err != nil {
			return nil, fmt.Errorf("usage of tenant %d: %w", id, err)
		}
		d.Usage = &u
		err = s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
			d.Figures, err = readFigures(tx, s.now())
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("figures of tenant %d: %w", id, err)
		}
	case tenancy.StatusProvisioning:
		if s.progress != nil {
			if d.Provisioning, err = s.progress.Progress(ctx, id); err != nil {
				return nil, s.notFound(err)
			}
		}
	}
	return d, nil
}

func (s *Service) notFound(err error) error {
	if errors.Is(err, tenancy.ErrNotFound) || errors.Is(err, plans.ErrTenantNotFound) {
		return fmt.Errorf("%w: %w", ErrTenantNotFound, err)
	}
	return err
}

// Suspend pauses tenant id: its hosts answer tenant_suspended from now on, on every replica.
// by names the actor and IP of the platform audit entry. Errors: ErrTenantNotFound,
// ErrAlreadySuspended, ErrNotSuspendable, ErrReasonRequired.
func (s *Service) Suspend(ctx context.Context, id int64, reason string, by audit.Entry) (*PlatformTenant, error) {
	return s.SetStatus(ctx, id, tenancy.StatusSuspended, reason, by)
}

// Resume puts a suspended tenant id back in service, whoever suspended it; for a tenant held
// for deletion this cancels the deletion (see lifecycle). Errors: ErrTenantNotFound,
// ErrAlreadyActive, ErrNotResumable, ErrReasonRequired.
func (s *Service) Resume(ctx context.Context, id int64, reason string, by audit.Entry) (*PlatformTenant, error) {
	return s.SetStatus(ctx, id, tenancy.StatusActive, reason, by)
}

// SetStatus suspends (to = suspended) or resumes (to = active) tenant id through the
// registry's lifecycle, records it in the platform audit log in the same transaction (action
// "tenant.<status>", as the CLI does) and invalidates the resolver cache on every replica.
// It is stricter than the registry: the same status again is refused rather than a no-op, so
// an admin learns that someone else already acted, and only a suspended tenant may be
// resumed, so a tenant still provisioning is never marked active early.
func (s *Service) SetStatus(ctx context.Context, id int64, to tenancy.Status, reason string, by audit.Entry) (*PlatformTenant, error) {
	reason, err := cleanReason(reason)
	if err != nil {
		return nil, err
	}
	if to != tenancy.StatusSuspended && to != tenancy.StatusActive {
		return nil, fmt.Errorf("admin: SetStatus to %s is not a suspend or resume", to)
	}
	if by.Actor == "" {
		return nil, errors.New("admin: SetStatus needs an actor")
	}
	var from tenancy.Status
	err = s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// Lock first so the check and the change see the same status.
		var cur tenancy.Tenant
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("id = ?", id).Take(&cur).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return ErrTenantNotFound
			}
			return err
		}
		from = cur.Status
		if err := allowed(from, to); err != nil {
			return err
		}
		t, err := s.reg.SetStatus(tx, id, to, reason)
		if err != nil {
			return err
		}
		by.Action, by.Target = "tenant."+string(to), "tenant:"+t.Slug
		by.Meta = map[string]any{"reason": reason, "from": string(from)}
		if cur.Hold != tenancy.HoldNone {
			by.Meta["hold"] = string(cur.Hold)
		}
		// Resuming a tenant held for deletion is its restore: the scheduled purge finds it
		// active and does nothing, and the log must show that a deletion was called off.
		if to == tenancy.StatusActive && cur.Hold == tenancy.HoldDeletion {
			by.Meta["deletionCancelled"] = true
			if cur.DeleteAfter != nil {
				by.Meta["deleteAfter"] = cur.DeleteAfter.UTC().Format(time.RFC3339)
			}
		}
		return audit.RecordPlatform(tx, &id, by)
	})
	if err != nil {
		return nil, err
	}
	if err := s.resolver.Invalidate(ctx, id); err != nil {
		// This replica already dropped its entry; others catch up within the cache TTL.
		s.log.Warn("tenant cache invalidation not published", "tenant", id, "err", err)
	}
	return getTenant(s.db.Gorm.WithContext(ctx), id)
}

func allowed(from, to tenancy.Status) error {
	switch {
	case to == tenancy.StatusSuspended && from == tenancy.StatusSuspended:
		return ErrAlreadySuspended
	case to == tenancy.StatusSuspended && from != tenancy.StatusActive:
		return fmt.Errorf("%w: it is %s", ErrNotSuspendable, from)
	case to == tenancy.StatusActive && from == tenancy.StatusActive:
		return ErrAlreadyActive
	case to == tenancy.StatusActive && from != tenancy.StatusSuspended:
		return fmt.Errorf("%w: it is %s", ErrNotResumable, from)
	}
	return nil
}

func cleanReason(r string) (string, error) {
	r = strings.TrimSpace(r)
	if r == "" || !utf8.ValidString(r) || utf8.RuneCountInString(r) > maxReasonRunes {
		return "", ErrReasonRequired
	}
	return r, nil
}

// SetPlan moves tenant id to plan planID through plans.SetTenantPlan, which audits it as
// "tenant.plan.set" and applies the new limits at once. Errors: ErrTenantNotFound,
// ErrTenantDeleted, ErrReasonRequired, plans.ErrPlanNotFound, plans.ErrPlanRetired.
func (s *Service) SetPlan(ctx context.Context, id int64, planID, reason, actor string) (*PlatformTenant, error) {
	reason, err := cleanReason(reason)
	if err != nil {
		return nil, err
	}
	t, err := getTenant(s.db.Gorm.WithContext(ctx), id)
	if err != nil {
		return nil, err
	}
	// Deleted is final, so this check cannot race with a change that would make it wrong.
	if t.Status == tenancy.StatusDeleted {
		return nil, ErrTenantDeleted
	}
	if s.billing != nil {
		tn, err := s.reg.ByID(ctx, id)
		if err != nil {
			return nil, s.notFound(err)
		}
		// A tenant billed through Stripe changes there too, or the next subscription event
		// would move it back.
		handled, err := s.billing.MoveForPlatform(ctx, tn, planID, actor, reason)
		if err != nil {
			return nil, s.notFound(err)
		}
		if handled {
			return getTenant(s.db.Gorm.WithContext(ctx), id)
		}
	}
	if err := s.plans.SetTenantPlan(ctx, id, planID, actor, reason); err != nil {
		return nil, s.notFound(err)
	}
	return getTenant(s.db.Gorm.WithContext(ctx), id)
}

// Dashboard sums the platform up. Tenant counts, signups and MRR come from the control plane
// in a few queries; orders and GMV this month need one short transaction per active tenant
// schema, run dashboardConcurrency at a time. At a few hundred tenants that is well under a
// second; beyond that the figures belong in a periodic roll-up (see the package report).
// A tenant whose schema cannot be read is listed in Unreadable and left out of the sums.
func (s *Service) Dashboard(ctx context.Context) (*PlatformDashboard, error) {
	db := s.db.Gorm.WithContext(ctx)
	now := s.now()
	d := &PlatformDashboard{Unreadable: []string{}}
	var err error
	if d.TenantsByStatus, err = tenantsByStatus(db); err != nil {
		return nil, err
	}
	if d.Signups, err = signupWeeks(db, now, s.zone, signupWeeksShown); err != nil {
		return nil, err
	}
	if d.MRR, err = activeMRR(db); err != nil {
		return nil, err
	}
	active, _, err := s.reg.List(ctx, tenancy.ListFilter{Status: tenancy.StatusActive, Limit: 1 << 30})
	if err != nil {
		return nil, fmt.Errorf("active tenants: %w", err)
	}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(dashboardConcurrency)
	for i := range active {
		t := &active[i]
		g.Go(func() error {
			var orders, gmv int64
			err := s.db.InTenant(gctx, t, func(tx *gorm.DB) error {
				var since time.Time
				var err error
				if orders, since, err = plans.CountOrdersThisMonth(tx, now); err != nil {
					return err
				}
				gmv, err = monthGMV(tx, since)
				return err
			})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				s.log.Warn("dashboard: tenant figures unreadable", "tenant", t.Slug, "err", err)
				d.Unreadable = append(d.Unreadable, t.Slug)
				return nil
			}
			d.OrdersThisMonth += orders
			d.GMVThisMonth += gmv
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	slices.Sort(d.Unreadable)
	return d, nil
}
