package billing

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/paotui/paotui/internal/jobs"
	"github.com/paotui/paotui/internal/platform/plans"
)

var (
	// ErrBadSignature: the delivery is not signed with the billing endpoint's secret.
	ErrBadSignature = errors.New("stripe signature verification failed")
	// ErrBadEvent: the body is not a Stripe event of the pinned API version.
	ErrBadEvent = errors.New("not a stripe event of the expected API version")
)

// Event is a verified Stripe event reduced to what billing applies: ids, states, amounts and
// times, never names, emails or addresses (it travels through the outbox).
type Event struct {
	ID           string         `json:"id"`
	Type         string         `json:"type"`
	Created      time.Time      `json:"created"`
	Subscription *Subscription  `json:"subscription,omitempty"`
	Invoice      *InvoiceState  `json:"invoice,omitempty"`
	Checkout     *CheckoutState `json:"checkout,omitempty"`
}

// InvoiceState is an invoice as an event carries it.
type InvoiceState struct {
	ID             string     `json:"id"`
	Number         string     `json:"number"`
	Status         string     `json:"status"`
	Currency       string     `json:"currency"`
	AmountDue      int64      `json:"amountDue"`
	AmountPaid     int64      `json:"amountPaid"`
	HostedURL      string     `json:"hostedUrl"`
	PeriodStart    *time.Time `json:"periodStart"`
	PeriodEnd      *time.Time `json:"periodEnd"`
	Created        time.Time  `json:"created"`
	SubscriptionID string     `json:"subscriptionId"`
}

// CheckoutState is a completed Checkout session.
type CheckoutState struct {
	ID             string `json:"id"`
	SubscriptionID string `json:"subscriptionId"`
	CustomerID     string `json:"customerId"`
}

// route is what an event says about whose it is.
type route struct {
	tenantID   int64
	customerID string
}

func tenantOf(m map[string]string) int64 {
	id, err := strconv.ParseInt(m["tenant_id"], 10, 64)
	if err != nil || id <= 0 {
		return 0
	}
	return id
}

// parseEvent verifies the signature on the raw payload before reading it, then reduces the
// event. ev.Type outside the handled families gives a nil *Event with no error: recorded and
// ignored.
func parseEvent(payload []byte, sigHeader, secret string) (stripe.Event, *Event, route, error) {
	if secret == "" {
		return stripe.Event{}, nil, route{}, fmt.Errorf("%w: no billing webhook secret configured", ErrBadSignature)
	}
	se, err := webhook.ConstructEvent(payload, sigHeader, secret)
	switch {
	case errors.Is(err, webhook.ErrNotSigned), errors.Is(err, webhook.ErrInvalidHeader),
		errors.Is(err, webhook.ErrNoValidSignature), errors.Is(err, webhook.ErrTooOld):
		return se, nil, route{}, fmt.Errorf("%w: %w", ErrBadSignature, err)
	case err != nil:
		return se, nil, route{}, fmt.Errorf("%w: %w", ErrBadEvent, err)
	case se.ID == "" || se.Data == nil:
		return se, nil, route{}, fmt.Errorf("%w: no id or data", ErrBadEvent)
	}
	ev := &Event{ID: se.ID, Type: string(se.Type), Created: time.Unix(se.Created, 0).UTC()}
	var rt route
	typ := string(se.Type)
	switch {
	case typ == "checkout.session.completed" || typ == "checkout.session.async_payment_succeeded":
		var cs stripe.CheckoutSession
		if err := json.Unmarshal(se.Data.Raw, &cs); err != nil {
			return se, nil, rt, fmt.Errorf("%w: %w", ErrBadEvent, err)
		}
		if cs.Mode != stripe.CheckoutSessionModeSubscription {
			return se, nil, rt, nil
		}
		ev.Checkout = &CheckoutState{ID: cs.ID}
		if cs.Subscription != nil {
			ev.Checkout.SubscriptionID = cs.Subscription.ID
		}
		if cs.Customer != nil {
			ev.Checkout.CustomerID, rt.customerID = cs.Customer.ID, cs.Customer.ID
		}
		if rt.tenantID = tenantOf(cs.Metadata); rt.tenantID == 0 {
			rt.tenantID, _ = strconv.ParseInt(cs.ClientReferenceID, 10, 64)
		}
	case strings.HasPrefix(typ, "customer.subscription."):
		var sub stripe.Subscription
		if err := json.Unmarshal(se.Data.Raw, &sub); err != nil {
			return se, nil, rt, fmt.Errorf("%w: %w", ErrBadEvent, err)
		}
		s := subscriptionOf(&sub)
		ev.Subscription = &s
		rt.tenantID, rt.customerID = tenantOf(sub.Metadata), s.CustomerID
	case strings.HasPrefix(typ, "invoice."):
		var in stripe.Invoice
		if err := json.Unmarshal(se.Data.Raw, &in); err != nil {
			return se, nil, rt, fmt.Errorf("%w: %w", ErrBadEvent, err)
		}
		st := &InvoiceState{ID: in.ID, Number: in.Number, Status: string(in.Status), Currency: string(in.Currency),
			AmountDue: in.AmountDue, AmountPaid: in.AmountPaid, HostedURL: in.HostedInvoiceURL,
			PeriodStart: unix(in.PeriodStart), PeriodEnd: unix(in.PeriodEnd), Created: time.Unix(in.Created, 0).UTC()}
		if in.Subscription != nil {
			st.SubscriptionID = in.Subscription.ID
		}
		ev.Invoice = st
		if in.SubscriptionDetails != nil {
			rt.tenantID = tenantOf(in.SubscriptionDetails.Metadata)
		}
		if in.Customer != nil {
			rt.customerID = in.Customer.ID
		}
	default:
		return se, nil, rt, nil
	}
	return se, ev, rt, nil
}

// Receive takes one delivery of the billing webhook: the raw body, its Stripe-Signature header
// and the endpoint's secret. After verifying the signature it records the event id once in
// public.billing_events and, for an event of a known tenant (metadata tenant_id, or the
// tenant whose Stripe customer it names), queues TaskEvent through the outbox in the same
// transaction. duplicate is true for an event id seen before: nothing is written. Errors wrap
// ErrBadSignature or ErrBadEvent; Stripe retries any other error.
func (s *Service) Receive(ctx context.Context, payload []byte, sigHeader, secret string) (duplicate bool, err error) {
	se, ev, rt, err := parseEvent(payload, sigHeader, secret)
	if err != nil {
		return false, err
	}
	objectID := ""
	if se.Data != nil {
		var obj struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(se.Data.Raw, &obj)
		objectID = obj.ID
	}
	err = s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// A tenant id that names no tenant falls back to the customer, then to NULL, so the
		// foreign key cannot fail the delivery forever.
		rows, err := tx.Raw(`INSERT INTO public.billing_events (event_id, type, tenant_id, object_id, created)
			VALUES (?, ?, COALESCE((SELECT id FROM public.tenants WHERE id = ?),
			                       (SELECT tenant_id FROM public.subscriptions WHERE stripe_customer_id = ? AND ? <> '')), ?, ?)
			ON CONFLICT (event_id) DO NOTHING
			RETURNING tenant_id`, se.ID, string(se.Type), rt.tenantID, rt.customerID, rt.customerID, objectID,
			time.Unix(se.Created, 0).UTC()).Rows()
		if err != nil {
			return fmt.Errorf("record billing event: %w", err)
		}
		var tenant sql.NullInt64
		inserted := rows.Next()
		if inserted {
			err = rows.Scan(&tenant)
		}
		if cerr := rows.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("record billing event: %w", err)
		}
		if !inserted {
			duplicate = true
			return nil
		}
		if ev == nil || !tenant.Valid {
			s.log.DebugContext(ctx, "billing event ignored", "event", se.ID, "type", se.Type)
			return nil
		}
		return s.outbox.Add(tx, jobs.Message{TenantID: tenant.Int64, Type: TaskEvent, Data: ev, Queue: jobs.QueueCritical})
	})
	return duplicate, err
}

// HandleEvent is TaskEvent.
func (s *Service) HandleEvent(ctx context.Context, task *asynq.Task) error {
	id, ev, err := jobs.Decode[Event](task)
	if err != nil || ev.ID == "" {
		return fmt.Errorf("bad billing event task: %v: %w", err, asynq.SkipRetry)
	}
	err = s.Apply(ctx, id, ev)
	if errors.Is(err, ErrNoSubscription) {
		s.log.WarnContext(ctx, "billing event for a tenant without a subscription", "tenant", id, "event", ev.ID)
		return nil
	}
	return err
}

// Apply applies a recorded event to tenant id's subscription and, through it, to the tenant.
// Subscription state moves only forward in event time; invoices are mirrored regardless.
func (s *Service) Apply(ctx context.Context, id int64, ev Event) error {
	changed, planChanged := false, ""
	err := s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		row, err := lockRow(tx, id)
		if err != nil {
			return err
		}
		if ev.Invoice != nil {
			if err := upsertInvoice(tx, id, ev.Invoice); err != nil {
				return err
			}
		}
		if row.LastEventAt == nil || !ev.Created.Before(*row.LastEventAt) {
			if planChanged, err = s.advance(tx, row, ev); err != nil {
				return err
			}
			created := ev.Created
			row.LastEventAt = &created
		}
		if row.settleGrace(s.now(), s.cfg.GracePeriod) {
			if err := s.outbox.Add(tx, jobs.Message{Type: TaskGrace, TenantID: id, ProcessAt: *row.GraceUntil, Queue: jobs.QueueCritical}); err != nil {
				return err
			}
		}
		row.UpdatedAt = s.now()
		if err := tx.Save(row).Error; err != nil {
			return err
		}
		changed, err = s.settle(tx, row)
		return err
	})
	if err != nil {
		return err
	}
	if changed {
		s.invalidate(ctx, id)
	}
	if planChanged != "" {
		// The customer changed plans in the portal: follow Stripe.
		if err := s.plans.SetTenantPlan(ctx, id, planChanged, "billing", "subscription changed at Stripe"); err != nil &&
			!errors.Is(err, plans.ErrPlanRetired) {
			return err
		}
	}
	return nil
}

// advance moves the row by one event newer than any applied. It returns the plan the
// subscription now bills for when that differs from the row's.
func (s *Service) advance(tx *gorm.DB, row *subRow, ev Event) (string, error) {
	switch {
	case ev.Checkout != nil:
		if ev.Checkout.SubscriptionID != "" {
			row.StripeSubscriptionID = ptr(ev.Checkout.SubscriptionID)
		}
		if ev.Checkout.CustomerID != "" && row.StripeCustomerID == nil {
			row.StripeCustomerID = ptr(ev.Checkout.CustomerID)
		}
		row.CheckoutSessionID, row.CheckoutURL = nil, ""
		if row.Status == StatusIncomplete || row.Status == StatusCanceled || row.Status == StatusNone {
			// Completed checkout means the first invoice is paid (or a trial started); the
			// subscription's own events refine this.
			row.Status = StatusActive
		}
	case ev.Subscription != nil:
		sub := ev.Subscription
		if cur := str(row.StripeSubscriptionID); cur != "" && cur != sub.ID && sub.Status == "canceled" {
			return "", nil // the end of a subscription this tenant already replaced
		}
		st, ok := statusOf(sub.Status)
		if !ok {
			return "", nil
		}
		if ev.Type == "customer.subscription.deleted" {
			st = StatusCanceled
		}
		row.Status = st
		for _, it := range sub.Items {
			if p, which, err := plans.ForPrice(tx, it.PriceID); err == nil && which != "metered" {
				iv := map[string]string{"monthly": "month", "yearly": "year"}[which]
				if p.ID != row.PlanID {
					row.PlanID, row.BillingInterval = p.ID, iv
					s.mirror(tx, row, *sub)
					return p.ID, nil
				}
				row.BillingInterval = iv
			}
		}
		s.mirror(tx, row, *sub)
	case ev.Invoice != nil:
		switch ev.Type {
		case "invoice.paid", "invoice.payment_succeeded":
			if row.Status.owing() || row.Status == StatusIncomplete {
				row.Status = StatusActive
			}
		case "invoice.payment_failed":
			if row.Status == StatusActive || row.Status == StatusTrialing {
				row.Status = StatusPastDue
			}
		}
	}
	return "", nil
}

// invoiceRank orders invoice statuses so a late "open" never overwrites "paid".
var invoiceRank = map[string]int{"draft": 0, "open": 1, "uncollectible": 2, "paid": 3, "void": 3}

func upsertInvoice(tx *gorm.DB, tenantID int64, in *InvoiceState) error {
	if in.ID == "" {
		return nil
	}
	row := invoiceRow{ID: in.ID, TenantID: tenantID, Number: in.Number, Status: in.Status, Currency: in.Currency,
		AmountDue: in.AmountDue, AmountPaid: in.AmountPaid, HostedInvoiceURL: in.HostedURL,
		PeriodStart: in.PeriodStart, PeriodEnd: in.PeriodEnd, Created: in.Created, UpdatedAt: time.Now().UTC()}
	var cur invoiceRow
	err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("id = ?", in.ID).Take(&cur).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error
	case err != nil:
		return err
	case invoiceRank[in.Status] < invoiceRank[cur.Status]:
		return nil
	}
	return tx.Save(&row).Error
}

// invoiceRow is public.invoices.
type invoiceRow struct {
	ID               string `gorm:"primaryKey"`
	TenantID         int64
	Number           string
	Status           string
	Currency         string
	AmountDue        int64
	AmountPaid       int64
	HostedInvoiceURL string
	PeriodStart      *time.Time
	PeriodEnd        *time.Time
	Created          time.Time
	UpdatedAt        time.Time
}

func (invoiceRow) TableName() string { return "public.invoices" }
