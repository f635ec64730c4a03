package payments

import (
	"context"
	"fmt"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"

	"github.com/paotui/paotui/internal/stripeapi"
)

// Stripe is what payments needs of the Stripe API. NewStripeClient is the real one; tests fake
// it where they need state (stripe-mock is stateless).
type Stripe interface {
	// CreateIntent creates a PaymentIntent. The same IdempotencyKey returns the same intent.
	CreateIntent(ctx context.Context, p IntentParams) (Intent, error)
	// GetIntent reads a PaymentIntent's current state, client secret included.
	GetIntent(ctx context.Context, id string) (Intent, error)
	// Refund refunds part or all of a succeeded PaymentIntent. The same IdempotencyKey returns
	// the same refund.
	Refund(ctx context.Context, p RefundParams) (StripeRefund, error)
	// GetRefund reads a refund's current state.
	GetRefund(ctx context.Context, id string) (StripeRefund, error)
}

// IntentParams are the parameters of a new PaymentIntent.
type IntentParams struct {
	Amount         int64 // in 分
	Currency       string
	Method         string // the one payment method type offered: card, alipay or wechat_pay
	Metadata       map[string]string
	IdempotencyKey string
}

// Intent is a PaymentIntent as Stripe reports it.
type Intent struct {
	ID           string
	Status       string // requires_payment_method, processing, succeeded, canceled, ...
	Amount       int64
	Currency     string
	ClientSecret string
	Metadata     map[string]string
}

// RefundParams are the parameters of a new refund.
type RefundParams struct {
	IntentID       string
	Amount         int64
	Metadata       map[string]string
	IdempotencyKey string
}

// StripeRefund is a refund as Stripe reports it.
type StripeRefund struct {
	ID       string
	IntentID string
	Status   string // pending, requires_action, succeeded, failed, canceled
	Amount   int64
	Metadata map[string]string
}

type stripeClient struct{ api *client.API }

// NewStripeClient returns the Stripe API client for secretKey; apiURL "" is Stripe itself,
// anything else stripe-mock or another stand-in (see stripeapi.New).
func NewStripeClient(secretKey, apiURL string) Stripe {
	return &stripeClient{api: stripeapi.New(secretKey, apiURL)}
}

func (c *stripeClient) CreateIntent(ctx context.Context, p IntentParams) (Intent, error) {
	params := &stripe.PaymentIntentParams{
		Amount:             stripe.Int64(p.Amount),
		Currency:           stripe.String(p.Currency),
		PaymentMethodTypes: stripe.StringSlice([]string{p.Method}),
	}
	params.Context = ctx
	for k, v := range p.Metadata {
		params.AddMetadata(k, v)
	}
	if p.IdempotencyKey != "" {
		params.SetIdempotencyKey(p.IdempotencyKey)
	}
	pi, err := c.api.PaymentIntents.New(params)
	if err != nil {
		return Intent{}, fmt.Errorf("create payment intent: %w", err)
	}
	return intentOf(pi), nil
}

func (c *stripeClient) GetIntent(ctx context.Context, id string) (Intent, error) {
	params := &stripe.PaymentIntentParams{}
	params.Context = ctx
	pi, err := c.api.PaymentIntents.Get(id, params)
	if err != nil {
		return Intent{}, fmt.Errorf("get payment intent %s: %w", id, err)
	}
	return intentOf(pi), nil
}

func (c *stripeClient) Refund(ctx context.Context, p RefundParams) (StripeRefund, error) {
	params := &stripe.RefundParams{
		PaymentIntent: stripe.String(p.IntentID),
		Amount:        stripe.Int64(p.Amount),
	}
	params.Context = ctx
	for k, v := range p.Metadata {
		params.AddMetadata(k, v)
	}
	if p.IdempotencyKey != "" {
		params.SetIdempotencyKey(p.IdempotencyKey)
	}
	r, err := c.api.Refunds.New(params)
	if err != nil {
		return StripeRefund{}, fmt.Errorf("refund payment intent %s: %w", p.IntentID, err)
	}
	return refundOf(r), nil
}

func (c *stripeClient) GetRefund(ctx context.Context, id string) (StripeRefund, error) {
	params := &stripe.RefundParams{}
	params.Context = ctx
	r, err := c.api.Refunds.Get(id, params)
	if err != nil {
		return StripeRefund{}, fmt.Errorf("get refund %s: %w", id, err)
	}
	return refundOf(r), nil
}

func intentOf(pi *stripe.PaymentIntent) Intent {
	return Intent{
		ID:           pi.ID,
		Status:       string(pi.Status),
		Amount:       pi.Amount,
		Currency:     string(pi.Currency),
		ClientSecret: pi.ClientSecret,
		Metadata:     pi.Metadata,
	}
}

func refundOf(r *stripe.Refund) StripeRefund {
	out := StripeRefund{ID: r.ID, Status: string(r.Status), Amount: r.Amount, Metadata: r.Metadata}
	if r.PaymentIntent != nil {
		out.IntentID = r.PaymentIntent.ID
	}
	return out
}
