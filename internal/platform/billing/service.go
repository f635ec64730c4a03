package billing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/paotui/paotui/internal/audit"
	"github.com/paotui/paotui/internal/jobs"
	"github.com/paotui/paotui/internal/platform/plans"
	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/store"
)

// Tasks of the billing domain.
const (
	// TaskSetup creates a new tenant's Stripe customer and its trial subscription or Checkout session.
	TaskSetup = "billing:setup"
	// TaskEvent applies one recorded Stripe event.
	TaskEvent = "billing:stripe_event"
	// TaskGrace suspends tenants whose grace period ended (one tenant, or all when periodic).
	TaskGrace = "billing:grace"
	// TaskReportUsage sends metered usage to Stripe (periodic).
	TaskReportUsage = "billing:report_usage"
)

var (
	// ErrNotConfigured: a paid plan needs Stripe, and no secret key is configured.
	ErrNotConfigured = errors.New("billing is not configured on this platform")
	// ErrNotPurchasable: the plan has a price but no Stripe price for the interval yet.
	ErrNotPurchasable = errors.New("this plan cannot be bought yet for this billing interval")
	// ErrNoSubscription: the tenant has no subscription record (created by an operator).
	ErrNoSubscription = errors.New("this tenant has no subscription")
	// ErrNoCustomer: nothing has been billed yet, so there is no customer portal.
	ErrNoCustomer = errors.New("this tenant has no Stripe customer yet")
	// ErrNotTrialing: only a trial can be extended.
	ErrNotTrialing = errors.New("the subscription is not in a trial")
	// ErrSamePlan: the tenant already has this plan and interval.
	ErrSamePlan = errors.New("the tenant already has this plan")
	// ErrCheckoutPending: a Checkout session is still open; complete or wait for it.
	ErrCheckoutPending = errors.New("a checkout is still open for this tenant")
	// ErrProvider: Stripe did not answer or refused.
	ErrProvider = errors.New("the billing provider did not answer or refused; try again")
	// ErrInvalid: bad input (interval, days).
	ErrInvalid = errors.New("invalid billing request")
)

// Invalidator tells every replica a tenant's status changed (tenancy.Resolver).
type Invalidator interface {
	Invalidate(ctx context.Context, id int64) error
}

// Config is what billing reads of the platform configuration.
type Config struct {
	GracePeriod time.Duration
	// URL returns the public URL of a host (config.Config.PublicURL).
	URL        func(host string) string
	BaseDomain string
}

// Service is the billing domain. stripe may be nil: then only free plans can be chosen.
type Service struct {
	db       *store.DB
	reg      *tenancy.Registry
	resolver Invalidator
	plans    *plans.Service
	stripe   Stripe
	outbox   *jobs.Outbox
	cfg      Config
	log      *slog.Logger
	now      func() time.Time
}

// New wires the billing service.
func New(db *store.DB, reg *tenancy.Registry, resolver Invalidator, pl *plans.Service, stripe Stripe,
	outbox *jobs.Outbox, cfg Config, log *slog.Logger) *Service {
	return &Service{db: db, reg: reg, resolver: resolver, plans: pl, stripe: stripe, outbox: outbox, cfg: cfg, log: log,
		now: func() time.Time { return time.Now().UTC() }}
}

// Configured reports whether Stripe is configured.
func (s *Service) Configured() bool { return s.stripe != nil }

// Interval is how often a subscription is billed.
type Interval string

// Billing intervals.
const (
	Monthly Interval = "month"
	Yearly  Interval = "year"
)

// priceFor returns the plan's Stripe price for interval, and whether the plan is free there.
func priceFor(p plans.Plan, iv Interval) (price string, free bool, err error) {
	switch iv {
	case Monthly:
		return p.Prices.Monthly, p.Prices.Monthly == "" && p.MonthlyAmount == 0, nil
	case Yearly:
		return p.Prices.Yearly, p.Prices.Yearly == "" && p.YearlyAmount == 0, nil
	}
	return "", false, fmt.Errorf("%w: interval must be month or year", ErrInvalid)
}

// CheckPlan tells whether plan p can be bought for interval iv on this platform (before a
// tenant is registered). Errors: ErrInvalid, ErrNotPurchasable, ErrNotConfigured.
func (s *Service) CheckPlan(p plans.Plan, iv Interval) error {
	price, free, err := priceFor(p, iv)
	switch {
	case err != nil:
		return err
	case free:
		return nil
	case price == "":
		return ErrNotPurchasable
	case s.stripe == nil:
		return ErrNotConfigured
	}
	return nil
}

// Open records the subscription of a tenant being registered, inside the registration
// transaction tx, and queues its Stripe setup: a free plan needs no subscription, a plan with
// a trial starts it without a card, others wait for a Checkout session (the tenant is then
// held once provisioned, see InitialHold).
func (s *Service) Open(tx *gorm.DB, tenantID int64, p plans.Plan, iv Interval) error {
	if err := s.CheckPlan(p, iv); err != nil {
		return err
	}
	price, _, _ := priceFor(p, iv)
	row := subRow{TenantID: tenantID, PlanID: p.ID, BillingInterval: string(iv), Status: StatusNone}
	switch {
	case price == "":
	case p.TrialDays > 0:
		row.Status = StatusTrialing
		end := s.now().AddDate(0, 0, p.TrialDays)
		row.TrialEnd = &end
	default:
		row.Status = StatusIncomplete
	}
	if err := tx.Create(&row).Error; err != nil {
		return fmt.Errorf("open subscription: %w", err)
	}
	if err := tx.Exec(`UPDATE public.tenants SET plan_id = ? WHERE id = ?`, p.ID, tenantID).Error; err != nil {
		return err
	}
	if s.stripe == nil {
		return nil
	}
	return s.outbox.Add(tx, jobs.Message{Type: TaskSetup, TenantID: tenantID, Queue: jobs.QueueCritical})
}

// InitialHold is the provisioning gate: the hold a tenant takes when provisioning ends (none
// without a subscription record).
func (s *Service) InitialHold(tx *gorm.DB, tenantID int64) (tenancy.Hold, string, error) {
	row, err := readRow(tx, tenantID)
	if errors.Is(err, ErrNoSubscription) {
		return tenancy.HoldNone, "", nil
	}
	if err != nil {
		return "", "", err
	}
	h, why := row.initialHold(s.now())
	return h, why, nil
}

func idemKey(tenantID int64, what string) string {
	return "paotui-tenant-" + strconv.FormatInt(tenantID, 10) + "-" + what
}

func meta(t *tenancy.Tenant) map[string]string {
	return map[string]string{"tenant_id": strconv.FormatInt(t.ID, 10), "tenant_slug": t.Slug}
}

// HandleSetup is TaskSetup: it creates what the tenant's subscription still lacks at Stripe.
// Each call is idempotent at Stripe (keys derived from the tenant), so retries are safe.
func (s *Service) HandleSetup(ctx context.Context, task *asynq.Task) error {
	id, _, err := jobs.Decode[struct{}](task)
	if err != nil {
		return fmt.Errorf("%v: %w", err, asynq.SkipRetry)
	}
	return s.Setup(ctx, id)
}

// Setup runs TaskSetup for tenant id.
func (s *Service) Setup(ctx context.Context, id int64) error {
	if s.stripe == nil {
		return nil
	}
	t, err := s.reg.ByID(ctx, id)
	if err != nil {
		return err
	}
	row, err := readRow(s.db.Gorm.WithContext(ctx), id)
	if err != nil {
		return err
	}
	if row.StripeCustomerID == nil {
		cus, err := s.stripe.CreateCustomer(ctx, CustomerParams{Name: t.Name, Metadata: meta(t), IdempotencyKey: idemKey(id, "customer")})
		if err != nil {
			return fmt.Errorf("%w: %w", ErrProvider, err)
		}
		if err := s.db.Gorm.WithContext(ctx).Model(&subRow{}).Where("tenant_id = ? AND stripe_customer_id IS NULL", id).
			Updates(map[string]any{"stripe_customer_id": cus, "updated_at": s.now()}).Error; err != nil {
			return err
		}
		row.StripeCustomerID = &cus
	}
	p, err := s.plans.Get(ctx, row.PlanID)
	if err != nil {
		return err
	}
	price, _, err := priceFor(p, Interval(row.BillingInterval))
	if err != nil || price == "" {
		return err
	}
	switch {
	case row.StripeSubscriptionID != nil:
	case row.Status == StatusTrialing:
		sub, err := s.stripe.CreateSubscription(ctx, SubscriptionParams{CustomerID: *row.StripeCustomerID, PriceID: price,
			MeteredPriceID: p.Prices.Metered, TrialDays: p.TrialDays, Metadata: meta(t), IdempotencyKey: idemKey(id, "trial")})
		if err != nil {
			return fmt.Errorf("%w: %w", ErrProvider, err)
		}
		return s.adopt(ctx, id, sub)
	case row.Status == StatusIncomplete && row.CheckoutSessionID == nil:
		return s.openCheckout(ctx, t, row, p, price, "signup")
	}
	return nil
}

// openCheckout opens a Checkout session for plan p and stores it on the row.
func (s *Service) openCheckout(ctx context.Context, t *tenancy.Tenant, row *subRow, p plans.Plan, price, why string) error {
	admin := s.cfg.URL(t.Slug+"."+s.cfg.BaseDomain) + "/admin"
	co, err := s.stripe.CreateCheckout(ctx, CheckoutParams{CustomerID: str(row.StripeCustomerID), PriceID: price,
		MeteredPriceID: p.Prices.Metered, TrialDays: 0, Reference: strconv.FormatInt(t.ID, 10), Metadata: meta(t),
		SuccessURL: admin + "/billing?checkout=success", CancelURL: admin + "/billing?checkout=cancelled",
		IdempotencyKey: idemKey(t.ID, "checkout-"+why+"-"+p.ID+"-"+row.BillingInterval)})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrProvider, err)
	}
	return s.db.Gorm.WithContext(ctx).Model(&subRow{}).Where("tenant_id = ?", t.ID).
		Updates(map[string]any{"checkout_session_id": co.ID, "checkout_url": co.URL, "updated_at": s.now()}).Error
}

// adopt stores a subscription Stripe just returned to a call (not an event): ids, items and
// periods. Its status is taken only while the row has seen no event, so a webhook that already
// arrived is never overwritten by an older answer.
func (s *Service) adopt(ctx context.Context, tenantID int64, sub Subscription) error {
	return s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		row, err := lockRow(tx, tenantID)
		if err != nil {
			return err
		}
		s.mirror(tx, row, sub)
		if st, ok := statusOf(sub.Status); ok && row.LastEventAt == nil {
			row.Status = st
		}
		row.UpdatedAt = s.now()
		return tx.Save(row).Error
	})
}

// mirror copies a Stripe subscription's ids, items and periods onto row.
func (s *Service) mirror(tx *gorm.DB, row *subRow, sub Subscription) {
	row.StripeSubscriptionID = ptr(sub.ID)
	if sub.CustomerID != "" {
		row.StripeCustomerID = ptr(sub.CustomerID)
	}
	row.TrialEnd, row.CurrentPeriodStart, row.CurrentPeriodEnd = sub.TrialEnd, sub.PeriodStart, sub.PeriodEnd
	row.CancelAtPeriodEnd = sub.CancelAtPeriodEnd
	p, err := plans.GetIn(tx, row.PlanID)
	for _, it := range sub.Items {
		switch {
		case it.Metered || (err == nil && it.PriceID != "" && it.PriceID == p.Prices.Metered):
			row.MeteredItemID = ptr(it.ID)
		default:
			row.LicensedItemID = ptr(it.ID)
		}
	}
}

// readRow reads the tenant's subscription row through tx (the pool or a transaction).
// Errors: ErrNoSubscription.
func readRow(tx *gorm.DB, tenantID int64) (*subRow, error) {
	var row subRow
	err := tx.Where("tenant_id = ?", tenantID).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNoSubscription
	}
	if err != nil {
		return nil, err
	}
	return &row, nil
}

// lockRow reads and locks the tenant's subscription row inside tx.
func lockRow(tx *gorm.DB, tenantID int64) (*subRow, error) {
	return readRow(tx.Clauses(clause.Locking{Strength: "UPDATE"}), tenantID)
}

// settle applies the subscription's effect on its tenant inside tx and reports whether the
// tenant's status changed. A tenant still provisioning is left to the provisioning gate.
func (s *Service) settle(tx *gorm.DB, row *subRow) (bool, error) {
	t, err := s.reg.ByIDTx(tx, row.TenantID)
	if err != nil {
		return false, err
	}
	if t.Status != tenancy.StatusActive && t.Status != tenancy.StatusSuspended {
		return false, nil
	}
	e, why := row.effect(s.now())
	var out *tenancy.Tenant
	switch e {
	case Serve:
		out, err = s.reg.Release(tx, t.ID, tenancy.HoldBilling, why)
	case Pause:
		out, err = s.reg.Hold(tx, t.ID, tenancy.HoldBilling, why)
	default:
		return false, nil
	}
	if err != nil || (out.Status == t.Status && out.Hold == t.Hold) {
		return false, err
	}
	id := t.ID
	return true, audit.RecordPlatform(tx, &id, audit.Entry{Actor: "billing", Action: "tenant." + string(out.Status),
		Target: "tenant:" + t.Slug, Meta: map[string]any{"reason": why, "from": string(t.Status), "subscription": string(row.Status)}})
}

// HandleGrace is TaskGrace: it pauses every tenant whose grace period is over (the task is
// scheduled at the end of each grace period and also runs periodically as a safety net).
func (s *Service) HandleGrace(ctx context.Context, _ *asynq.Task) error {
	var ids []int64
	if err := s.db.Gorm.WithContext(ctx).Model(&subRow{}).Where("grace_until <= ?", s.now()).Pluck("tenant_id", &ids).Error; err != nil {
		return err
	}
	for _, id := range ids {
		if err := s.recheck(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// recheck settles tenant id's subscription effect now.
func (s *Service) recheck(ctx context.Context, id int64) error {
	changed := false
	err := s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		row, err := lockRow(tx, id)
		if err != nil {
			return err
		}
		if changed, err = s.settle(tx, row); err != nil {
			return err
		}
		if row.GraceUntil != nil && !s.now().Before(*row.GraceUntil) {
			// The grace period has done its work once: a platform admin who resumes the
			// tenant anyway is not overruled by the next sweep. Paying, or a new owing period
			// after paying, starts over.
			return tx.Model(&subRow{}).Where("tenant_id = ?", id).Update("grace_until", nil).Error
		}
		return nil
	})
	if err == nil && changed {
		s.invalidate(ctx, id)
	}
	return err
}

func (s *Service) invalidate(ctx context.Context, id int64) {
	if err := s.resolver.Invalidate(ctx, id); err != nil {
		s.log.Warn("tenant cache invalidation not published", "tenant", id, "err", err)
	}
}

// CancelForDeletion ends a tenant's Stripe subscription when the tenant is deleted.
func (s *Service) CancelForDeletion(ctx context.Context, tenantID int64) error {
	row, err := readRow(s.db.Gorm.WithContext(ctx), tenantID)
	switch {
	case errors.Is(err, ErrNoSubscription):
		return nil
	case err != nil:
		return err
	case row.StripeSubscriptionID == nil || row.Status == StatusCanceled || s.stripe == nil:
		return nil
	}
	if err := s.stripe.Cancel(ctx, *row.StripeSubscriptionID); err != nil {
		return fmt.Errorf("%w: %w", ErrProvider, err)
	}
	return s.db.Gorm.WithContext(ctx).Model(&subRow{}).Where("tenant_id = ?", tenantID).
		Updates(map[string]any{"status": StatusCanceled, "grace_until": nil, "past_due_since": nil, "updated_at": s.now()}).Error
}
