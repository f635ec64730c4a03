package billing

import (
	"context"
	"fmt"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"

	"github.com/paotui/paotui/internal/stripeapi"
)

// Stripe is what billing needs of Stripe Billing. NewStripe is the real one (tests run it
// against stripe-mock); every call that creates something takes an idempotency key so a
// retried job never makes a second customer, subscription or session.
type Stripe interface {
	CreateCustomer(ctx context.Context, p CustomerParams) (string, error)
	// CreateSubscription starts a subscription without collecting a payment method first:
	// used for plans with a trial.
	CreateSubscription(ctx context.Context, p SubscriptionParams) (Subscription, error)
	// CreateCheckout opens a Checkout session in subscription mode for the customer.
	CreateCheckout(ctx context.Context, p CheckoutParams) (Checkout, error)
	// ChangeItems swaps the subscription's prices, prorating as Stripe does.
	ChangeItems(ctx context.Context, p ChangeParams) (Subscription, error)
	// SetTrialEnd moves the end of a subscription's trial.
	SetTrialEnd(ctx context.Context, subscriptionID string, end time.Time, idempotencyKey string) (Subscription, error)
	// Cancel ends a subscription now, without a final invoice.
	Cancel(ctx context.Context, subscriptionID string) error
	// PortalURL opens a customer-portal session and returns its URL.
	PortalURL(ctx context.Context, customerID, returnURL string) (string, error)
	// SetUsage sets the quantity of a metered item at a time within its period.
	SetUsage(ctx context.Context, itemID string, quantity int64, at time.Time, idempotencyKey string) error
}

// CustomerParams name a tenant's Stripe customer.
type CustomerParams struct {
	Name           string
	Metadata       map[string]string
	IdempotencyKey string
}

// SubscriptionParams start a subscription with a trial.
type SubscriptionParams struct {
	CustomerID     string
	PriceID        string
	MeteredPriceID string // "" when the plan has none
	TrialDays      int
	Metadata       map[string]string
	IdempotencyKey string
}

// CheckoutParams open a Checkout session for a subscription.
type CheckoutParams struct {
	CustomerID     string
	PriceID        string
	MeteredPriceID string
	TrialDays      int
	SuccessURL     string
	CancelURL      string
	Reference      string // client_reference_id: the tenant id
	Metadata       map[string]string
	IdempotencyKey string
}

// ChangeParams move a subscription to other prices.
type ChangeParams struct {
	SubscriptionID string
	LicensedItemID string // the item whose price is replaced by PriceID
	PriceID        string
	MeteredItemID  string // "" when the subscription has no metered item
	MeteredPriceID string // "" to drop the metered item
	Metadata       map[string]string
	IdempotencyKey string
}

// Subscription is a subscription as Stripe reports it.
type Subscription struct {
	ID                string
	CustomerID        string
	Status            string
	TrialEnd          *time.Time
	PeriodStart       *time.Time
	PeriodEnd         *time.Time
	CancelAtPeriodEnd bool
	Items             []Item
}

// Item is one price of a subscription.
type Item struct {
	ID      string
	PriceID string
	Metered bool
}

// Checkout is an open Checkout session.
type Checkout struct {
	ID  string
	URL string
}

type stripeClient struct{ api *client.API }

// NewStripe returns the Stripe Billing client for secretKey; apiURL "" is Stripe itself.
func NewStripe(secretKey, apiURL string) Stripe {
	return &stripeClient{api: stripeapi.New(secretKey, apiURL)}
}

func withKey(ctx context.Context, p *stripe.Params, key string, meta map[string]string) {
	p.Context = ctx
	if key != "" {
		p.SetIdempotencyKey(key)
	}
	for k, v := range meta {
		p.AddMetadata(k, v)
	}
}

func (c *stripeClient) CreateCustomer(ctx context.Context, p CustomerParams) (string, error) {
	params := &stripe.CustomerParams{Name: stripe.String(p.Name)}
	withKey(ctx, &params.Params, p.IdempotencyKey, p.Metadata)
	cu, err := c.api.Customers.New(params)
	if err != nil {
		return "", fmt.Errorf("create customer: %w", err)
	}
	return cu.ID, nil
}

func (c *stripeClient) CreateSubscription(ctx context.Context, p SubscriptionParams) (Subscription, error) {
	params := &stripe.SubscriptionParams{
		Customer: stripe.String(p.CustomerID),
		Items:    []*stripe.SubscriptionItemsParams{{Price: stripe.String(p.PriceID)}},
		// Without a card the trial still starts; if none is added by its end, Stripe cancels
		// the subscription and the webhook suspends the tenant.
		TrialSettings: &stripe.SubscriptionTrialSettingsParams{EndBehavior: &stripe.SubscriptionTrialSettingsEndBehaviorParams{
			MissingPaymentMethod: stripe.String("cancel"),
		}},
		PaymentSettings: &stripe.SubscriptionPaymentSettingsParams{SaveDefaultPaymentMethod: stripe.String("on_subscription")},
	}
	if p.TrialDays > 0 {
		params.TrialPeriodDays = stripe.Int64(int64(p.TrialDays))
	}
	if p.MeteredPriceID != "" {
		params.Items = append(params.Items, &stripe.SubscriptionItemsParams{Price: stripe.String(p.MeteredPriceID)})
	}
	withKey(ctx, &params.Params, p.IdempotencyKey, p.Metadata)
	s, err := c.api.Subscriptions.New(params)
	if err != nil {
		return Subscription{}, fmt.Errorf("create subscription: %w", err)
	}
	return subscriptionOf(s), nil
}

func (c *stripeClient) CreateCheckout(ctx context.Context, p CheckoutParams) (Checkout, error) {
	params := &stripe.CheckoutSessionParams{
		Mode:              stripe.String(string(stripe.CheckoutSessionModeSubscription)),
		Customer:          stripe.String(p.CustomerID),
		ClientReferenceID: stripe.String(p.Reference),
		SuccessURL:        stripe.String(p.SuccessURL),
		CancelURL:         stripe.String(p.CancelURL),
		LineItems:         []*stripe.CheckoutSessionLineItemParams{{Price: stripe.String(p.PriceID), Quantity: stripe.Int64(1)}},
		SubscriptionData:  &stripe.CheckoutSessionSubscriptionDataParams{Metadata: p.Metadata},
	}
	if p.TrialDays > 0 {
		params.SubscriptionData.TrialPeriodDays = stripe.Int64(int64(p.TrialDays))
	}
	if p.MeteredPriceID != "" {
		// Metered prices take no quantity: usage is reported.
		params.LineItems = append(params.LineItems, &stripe.CheckoutSessionLineItemParams{Price: stripe.String(p.MeteredPriceID)})
	}
	withKey(ctx, &params.Params, p.IdempotencyKey, p.Metadata)
	s, err := c.api.CheckoutSessions.New(params)
	if err != nil {
		return Checkout{}, fmt.Errorf("create checkout session: %w", err)
	}
	return Checkout{ID: s.ID, URL: s.URL}, nil
}

func (c *stripeClient) ChangeItems(ctx context.Context, p ChangeParams) (Subscription, error) {
	params := &stripe.SubscriptionParams{
		ProrationBehavior: stripe.String("create_prorations"),
		Items:             []*stripe.SubscriptionItemsParams{{ID: stripe.String(p.LicensedItemID), Price: stripe.String(p.PriceID)}},
	}
	switch {
	case p.MeteredItemID != "" && p.MeteredPriceID == "":
		params.Items = append(params.Items, &stripe.SubscriptionItemsParams{ID: stripe.String(p.MeteredItemID), Deleted: stripe.Bool(true)})
	case p.MeteredItemID != "":
		params.Items = append(params.Items, &stripe.SubscriptionItemsParams{ID: stripe.String(p.MeteredItemID), Price: stripe.String(p.MeteredPriceID)})
	case p.MeteredPriceID != "":
		params.Items = append(params.Items, &stripe.SubscriptionItemsParams{Price: stripe.String(p.MeteredPriceID)})
	}
	withKey(ctx, &params.Params, p.IdempotencyKey, p.Metadata)
	s, err := c.api.Subscriptions.Update(p.SubscriptionID, params)
	if err != nil {
		return Subscription{}, fmt.Errorf("change subscription %s: %w", p.SubscriptionID, err)
	}
	return subscriptionOf(s), nil
}

func (c *stripeClient) SetTrialEnd(ctx context.Context, id string, end time.Time, key string) (Subscription, error) {
	params := &stripe.SubscriptionParams{TrialEnd: stripe.Int64(end.Unix()), ProrationBehavior: stripe.String("none")}
	withKey(ctx, &params.Params, key, nil)
	s, err := c.api.Subscriptions.Update(id, params)
	if err != nil {
		return Subscription{}, fmt.Errorf("extend trial of %s: %w", id, err)
	}
	return subscriptionOf(s), nil
}

func (c *stripeClient) Cancel(ctx context.Context, id string) error {
	params := &stripe.SubscriptionCancelParams{InvoiceNow: stripe.Bool(false), Prorate: stripe.Bool(false)}
	params.Context = ctx
	if _, err := c.api.Subscriptions.Cancel(id, params); err != nil {
		return fmt.Errorf("cancel subscription %s: %w", id, err)
	}
	return nil
}

func (c *stripeClient) PortalURL(ctx context.Context, customerID, returnURL string) (string, error) {
	params := &stripe.BillingPortalSessionParams{Customer: stripe.String(customerID), ReturnURL: stripe.String(returnURL)}
	params.Context = ctx
	s, err := c.api.BillingPortalSessions.New(params)
	if err != nil {
		return "", fmt.Errorf("open customer portal: %w", err)
	}
	return s.URL, nil
}

func (c *stripeClient) SetUsage(ctx context.Context, itemID string, quantity int64, at time.Time, key string) error {
	params := &stripe.UsageRecordParams{
		SubscriptionItem: stripe.String(itemID),
		Quantity:         stripe.Int64(quantity),
		Timestamp:        stripe.Int64(at.Unix()),
		Action:           stripe.String("set"),
	}
	withKey(ctx, &params.Params, key, nil)
	if _, err := c.api.UsageRecords.New(params); err != nil {
		return fmt.Errorf("report usage of %s: %w", itemID, err)
	}
	return nil
}

func unix(t int64) *time.Time {
	if t == 0 {
		return nil
	}
	u := time.Unix(t, 0).UTC()
	return &u
}

func subscriptionOf(s *stripe.Subscription) Subscription {
	out := Subscription{ID: s.ID, Status: string(s.Status), TrialEnd: unix(s.TrialEnd),
		PeriodStart: unix(s.CurrentPeriodStart), PeriodEnd: unix(s.CurrentPeriodEnd), CancelAtPeriodEnd: s.CancelAtPeriodEnd}
	if s.Customer != nil {
		out.CustomerID = s.Customer.ID
	}
	if s.Items != nil {
		for _, it := range s.Items.Data {
			item := Item{ID: it.ID}
			if it.Price != nil {
				item.PriceID = it.Price.ID
				item.Metered = it.Price.Recurring != nil && it.Price.Recurring.UsageType == stripe.PriceRecurringUsageTypeMetered
			}
			out.Items = append(out.Items, item)
		}
	}
	return out
}
