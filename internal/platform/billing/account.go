package billing

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/audit"
	"github.com/paotui/paotui/internal/platform/plans"
	"github.com/paotui/paotui/internal/platform/tenancy"
)

// BillingView is a tenant's subscription as its owner and the platform see it.
type BillingView struct {
	PlanID            string         `json:"planId"`
	Interval          Interval       `json:"interval" enum:"month,year"`
	Status            Status         `json:"status" enum:"none,incomplete,trialing,active,past_due,unpaid,canceled,paused"`
	TrialEnd          *time.Time     `json:"trialEnd,omitempty"`
	CurrentPeriodEnd  *time.Time     `json:"currentPeriodEnd,omitempty"`
	CancelAtPeriodEnd bool           `json:"cancelAtPeriodEnd"`
	PastDueSince      *time.Time     `json:"pastDueSince,omitempty"`
	GraceUntil        *time.Time     `json:"graceUntil,omitempty" doc:"A past-due team is paused at this time unless it pays."`
	CheckoutURL       string         `json:"checkoutUrl,omitempty" doc:"Open while the first payment is not made."`
	HasCustomer       bool           `json:"hasCustomer" doc:"Whether the customer portal can be opened."`
	Banner            *BillingBanner `json:"banner,omitempty" doc:"What the admin shows at the top of every page; absent when all is well."`
}

// BillingBanner is a billing notice for the tenant admin.
type BillingBanner struct {
	Level   string     `json:"level" enum:"info,warning,error"`
	Code    string     `json:"code" enum:"trial,checkout_pending,past_due,paused_unpaid,canceled"`
	Message string     `json:"message"`
	Until   *time.Time `json:"until,omitempty"`
}

func (r *subRow) view(t *tenancy.Tenant) BillingView {
	v := BillingView{PlanID: r.PlanID, Interval: Interval(r.BillingInterval), Status: r.Status, TrialEnd: r.TrialEnd,
		CurrentPeriodEnd: r.CurrentPeriodEnd, CancelAtPeriodEnd: r.CancelAtPeriodEnd, PastDueSince: r.PastDueSince,
		GraceUntil: r.GraceUntil, CheckoutURL: r.CheckoutURL, HasCustomer: r.StripeCustomerID != nil}
	switch {
	case t.Status == tenancy.StatusSuspended && t.Hold == tenancy.HoldBilling && r.Status == StatusIncomplete:
		v.Banner = &BillingBanner{Level: "error", Code: "checkout_pending", Message: "Complete the payment to open your service."}
	case t.Status == tenancy.StatusSuspended && t.Hold == tenancy.HoldBilling && r.Status == StatusCanceled:
		v.Banner = &BillingBanner{Level: "error", Code: "canceled", Message: "The subscription is canceled; the service is paused. Choose a plan to resume."}
	case t.Status == tenancy.StatusSuspended && t.Hold == tenancy.HoldBilling:
		v.Banner = &BillingBanner{Level: "error", Code: "paused_unpaid", Message: "The service is paused for an unpaid invoice. Paying resumes it at once."}
	case r.Status.owing():
		v.Banner = &BillingBanner{Level: "warning", Code: "past_due", Message: "The last payment failed. Update the payment method before the service is paused.", Until: r.GraceUntil}
	case r.Status == StatusTrialing:
		v.Banner = &BillingBanner{Level: "info", Code: "trial", Message: "Trial in progress.", Until: r.TrialEnd}
	}
	return v
}

// Get returns tenant t's subscription; a team without one is on its plan with status none.
func (s *Service) Get(ctx context.Context, t *tenancy.Tenant) (*BillingView, error) {
	row, err := readRow(s.db.Gorm.WithContext(ctx), t.ID)
	if errors.Is(err, ErrNoSubscription) {
		// A team made by an operator has no subscription: it is on its plan (if any) with
		// nothing billed, which the owner sees as status none rather than as an error.
		var planID *string
		if err := s.db.Gorm.WithContext(ctx).Raw(`SELECT plan_id FROM public.tenants WHERE id = ?`, t.ID).Scan(&planID).Error; err != nil {
			return nil, err
		}
		return &BillingView{PlanID: str(planID), Interval: Monthly, Status: StatusNone}, nil
	}
	if err != nil {
		return nil, err
	}
	v := row.view(t)
	return &v, nil
}

// ViewOf returns tenant id's subscription, nil when it has none (for the platform's detail).
func (s *Service) ViewOf(ctx context.Context, id int64) (*BillingView, error) {
	t, err := s.reg.ByID(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.ViewFor(ctx, t)
}

// ViewFor returns tenant t's subscription, nil when it has none.
func (s *Service) ViewFor(ctx context.Context, t *tenancy.Tenant) (*BillingView, error) {
	row, err := readRow(s.db.Gorm.WithContext(ctx), t.ID)
	if errors.Is(err, ErrNoSubscription) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	v := row.view(t)
	return &v, nil
}

// DowngradeError names the limits the current usage exceeds on the plan asked for.
type DowngradeError struct {
	Plan   string
	Limits []plans.UsageItem
}

func (e *DowngradeError) Error() string {
	return fmt.Sprintf("usage is above %d of plan %s's limits", len(e.Limits), e.Plan)
}

// ChangePlan moves tenant t to plan planID billed every iv. An existing Stripe subscription is
// updated in place with Stripe's proration and the new limits apply at once; a tenant without
// one (a free plan) gets a Checkout session, and the plan changes when it completes. A move to a
// plan whose limits the tenant already exceeds is refused (*DowngradeError), so nothing is cut
// off by surprise. Errors: ErrSamePlan, ErrCheckoutPending, ErrNotConfigured,
// ErrNotPurchasable, plans.ErrPlanNotFound, plans.ErrPlanRetired, ErrProvider.
func (s *Service) ChangePlan(ctx context.Context, t *tenancy.Tenant, planID string, iv Interval, actor string) (*BillingView, error) {
	return s.changePlan(ctx, t, planID, iv, actor, "plan changed by the owner", true)
}

// MoveForPlatform keeps Stripe in step when a platform admin moves tenant t to plan planID: a
// tenant billed through a live Stripe subscription has its prices changed (prorated) at its
// interval, even below its usage, and the plan is set. handled is false when the tenant has no
// live subscription; the caller then only changes the plan here.
func (s *Service) MoveForPlatform(ctx context.Context, t *tenancy.Tenant, planID, actor, reason string) (handled bool, err error) {
	row, err := readRow(s.db.Gorm.WithContext(ctx), t.ID)
	switch {
	case errors.Is(err, ErrNoSubscription):
		return false, nil
	case err != nil:
		return false, err
	case row.StripeSubscriptionID == nil || row.Status == StatusCanceled || s.stripe == nil:
		// Stripe has nothing to change; the mirror's plan follows for the owner's view.
		return false, s.db.Gorm.WithContext(ctx).Model(&subRow{}).Where("tenant_id = ?", t.ID).Update("plan_id", planID).Error
	}
	if _, err := s.changePlan(ctx, t, planID, Interval(row.BillingInterval), actor, reason, false); err != nil && !errors.Is(err, ErrSamePlan) {
		return true, err
	}
	return true, nil
}

func (s *Service) changePlan(ctx context.Context, t *tenancy.Tenant, planID string, iv Interval, actor, reason string, checkUsage bool) (*BillingView, error) {
	p, err := s.plans.ForSignup(ctx, planID)
	if err != nil {
		return nil, err
	}
	if err := s.CheckPlan(p, iv); err != nil {
		return nil, err
	}
	row, err := readRow(s.db.Gorm.WithContext(ctx), t.ID)
	if err != nil {
		return nil, err
	}
	if row.PlanID == p.ID && row.BillingInterval == string(iv) && row.Status != StatusCanceled {
		return nil, ErrSamePlan
	}
	if row.CheckoutSessionID != nil {
		return nil, ErrCheckoutPending
	}
	if checkUsage {
		u, err := s.plans.Usage(ctx, t)
		if err != nil {
			return nil, err
		}
		var over []plans.UsageItem
		for _, it := range u.Items {
			if max, ok := p.Limits.Max(it.Kind); ok && it.Used > max {
				over = append(over, plans.UsageItem{Kind: it.Kind, Used: it.Used, Max: &max})
			}
		}
		if len(over) > 0 {
			return nil, &DowngradeError{Plan: p.ID, Limits: over}
		}
	}
	price, _, _ := priceFor(p, iv)
	key := idemKey(t.ID, "change-"+p.ID+"-"+string(iv)+"-"+strconv.FormatInt(row.UpdatedAt.UnixNano(), 36))
	switch {
	case price == "":
		// A free plan: end the paid subscription and keep serving.
		if row.StripeSubscriptionID != nil && row.Status != StatusCanceled {
			if err := s.stripe.Cancel(ctx, *row.StripeSubscriptionID); err != nil {
				return nil, fmt.Errorf("%w: %w", ErrProvider, err)
			}
		}
		err = s.db.Gorm.WithContext(ctx).Model(&subRow{}).Where("tenant_id = ?", t.ID).Updates(map[string]any{
			"plan_id": p.ID, "billing_interval": string(iv), "status": StatusNone, "stripe_subscription_id": nil,
			"licensed_item_id": nil, "metered_item_id": nil, "past_due_since": nil, "grace_until": nil, "updated_at": s.now()}).Error
	case row.StripeSubscriptionID == nil || row.Status == StatusCanceled || row.LicensedItemID == nil:
		if row.StripeCustomerID == nil {
			cus, cerr := s.stripe.CreateCustomer(ctx, CustomerParams{Name: t.Name, Metadata: meta(t), IdempotencyKey: idemKey(t.ID, "customer")})
			if cerr != nil {
				return nil, fmt.Errorf("%w: %w", ErrProvider, cerr)
			}
			row.StripeCustomerID = &cus
			if err := s.db.Gorm.WithContext(ctx).Model(&subRow{}).Where("tenant_id = ?", t.ID).
				Update("stripe_customer_id", cus).Error; err != nil {
				return nil, err
			}
		}
		// The plan follows the Checkout's subscription events.
		row.BillingInterval = string(iv)
		if err := s.openCheckout(ctx, t, row, p, price, "change-"+strconv.FormatInt(row.UpdatedAt.UnixNano(), 36)); err != nil {
			return nil, err
		}
		return s.Get(ctx, t)
	default:
		sub, cerr := s.stripe.ChangeItems(ctx, ChangeParams{SubscriptionID: *row.StripeSubscriptionID, LicensedItemID: *row.LicensedItemID,
			PriceID: price, MeteredItemID: str(row.MeteredItemID), MeteredPriceID: p.Prices.Metered, Metadata: meta(t), IdempotencyKey: key})
		if cerr != nil {
			return nil, fmt.Errorf("%w: %w", ErrProvider, cerr)
		}
		err = s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			cur, err := lockRow(tx, t.ID)
			if err != nil {
				return err
			}
			cur.PlanID, cur.BillingInterval = p.ID, string(iv)
			s.mirror(tx, cur, sub)
			cur.UpdatedAt = s.now()
			return tx.Save(cur).Error
		})
	}
	if err != nil {
		return nil, err
	}
	if err := s.plans.SetTenantPlan(ctx, t.ID, p.ID, actor, reason); err != nil {
		return nil, err
	}
	return s.Get(ctx, t)
}

// PortalURL opens the Stripe customer portal for tenant t's owner, returning to returnURL.
// Errors: ErrNotConfigured, ErrNoCustomer, ErrProvider.
func (s *Service) PortalURL(ctx context.Context, t *tenancy.Tenant) (string, error) {
	if s.stripe == nil {
		return "", ErrNotConfigured
	}
	row, err := readRow(s.db.Gorm.WithContext(ctx), t.ID)
	if errors.Is(err, ErrNoSubscription) || (err == nil && row.StripeCustomerID == nil) {
		return "", ErrNoCustomer
	}
	if err != nil {
		return "", err
	}
	u, err := s.stripe.PortalURL(ctx, *row.StripeCustomerID, s.cfg.URL(t.Slug+"."+s.cfg.BaseDomain)+"/admin/billing")
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrProvider, err)
	}
	return u, nil
}

// TenantInvoice is a Stripe invoice of a tenant.
type TenantInvoice struct {
	ID          string     `json:"id"`
	Number      string     `json:"number"`
	Status      string     `json:"status" doc:"Stripe's invoice status: draft, open, paid, uncollectible or void."`
	Currency    string     `json:"currency"`
	AmountDue   int64      `json:"amountDue" doc:"Minor units."`
	AmountPaid  int64      `json:"amountPaid" doc:"Minor units."`
	HostedURL   string     `json:"hostedUrl,omitempty" doc:"Stripe's page to view and pay the invoice."`
	PeriodStart *time.Time `json:"periodStart,omitempty"`
	PeriodEnd   *time.Time `json:"periodEnd,omitempty"`
	Created     time.Time  `json:"created"`
}

// Invoices lists tenant id's invoices, newest first.
func (s *Service) Invoices(ctx context.Context, id int64, limit, offset int) ([]TenantInvoice, int64, error) {
	if limit <= 0 {
		limit = 20
	}
	// Two statements from a fresh session each: a gorm query reused after Count keeps its
	// count(*) select.
	q := func() *gorm.DB { return s.db.Gorm.WithContext(ctx).Model(&invoiceRow{}).Where("tenant_id = ?", id) }
	var total int64
	if err := q().Count(&total).Error; err != nil {
		return nil, 0, err
	}
	var rows []invoiceRow
	if err := q().Order("created DESC, id").Limit(limit).Offset(offset).Find(&rows).Error; err != nil {
		return nil, 0, err
	}
	out := make([]TenantInvoice, 0, len(rows))
	for _, r := range rows {
		out = append(out, TenantInvoice{ID: r.ID, Number: r.Number, Status: r.Status, Currency: r.Currency, AmountDue: r.AmountDue,
			AmountPaid: r.AmountPaid, HostedURL: r.HostedInvoiceURL, PeriodStart: r.PeriodStart, PeriodEnd: r.PeriodEnd, Created: r.Created})
	}
	return out, total, nil
}

// ExtendTrial moves the end of tenant id's trial by days, at Stripe and here, and audits it.
// Errors: ErrNoSubscription, ErrNotTrialing, ErrInvalid, ErrProvider.
func (s *Service) ExtendTrial(ctx context.Context, id int64, days int, reason string, by audit.Entry) (*BillingView, error) {
	if days < 1 || days > 90 {
		return nil, fmt.Errorf("%w: days must be 1 to 90", ErrInvalid)
	}
	t, err := s.reg.ByID(ctx, id)
	if err != nil {
		return nil, err
	}
	row, err := readRow(s.db.Gorm.WithContext(ctx), id)
	if err != nil {
		return nil, err
	}
	if row.Status != StatusTrialing {
		return nil, ErrNotTrialing
	}
	from := s.now()
	if row.TrialEnd != nil && row.TrialEnd.After(from) {
		from = *row.TrialEnd
	}
	end := from.AddDate(0, 0, days).Truncate(time.Second)
	if row.StripeSubscriptionID != nil && s.stripe != nil {
		if _, err := s.stripe.SetTrialEnd(ctx, *row.StripeSubscriptionID, end,
			idemKey(id, "trial-end-"+strconv.FormatInt(end.Unix(), 10))); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrProvider, err)
		}
	}
	err = s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Model(&subRow{}).Where("tenant_id = ?", id).Updates(map[string]any{"trial_end": end, "updated_at": s.now()}).Error; err != nil {
			return err
		}
		by.Action, by.Target = "tenant.trial.extend", "tenant:"+t.Slug
		by.Meta = map[string]any{"days": days, "trial_end": end.Format(time.RFC3339), "reason": reason}
		return audit.RecordPlatform(tx, &id, by)
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, t)
}
