package payments

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/paotui/paotui/internal/httpx"
)

// Problems gives each payments error its problem response. Operations of other domains that
// call this package (paying and refunding orders) map its errors through it too.
var Problems = httpx.ProblemTable{
	httpx.Rule(ErrInsufficientFunds, http.StatusConflict, "wallet_insufficient_funds", "the wallet balance is too low for this payment; top up or pay another way"),
	httpx.Rule(ErrAlreadyPaid, http.StatusConflict, "order_already_paid", "this order is already paid"),
	httpx.Rule(ErrStripeDisabled, http.StatusConflict, "online_payment_unavailable", "online payment is not available; pay from the wallet or at the desk"),
	httpx.Rule(ErrMethodNotAllowed, http.StatusUnprocessableEntity, "payment_method_not_allowed", "this payment method is not offered here"),
	httpx.Rule(ErrBadSignature, http.StatusBadRequest, "stripe_signature_invalid", "the Stripe-Signature header does not verify"),
	httpx.Rule(ErrBadEvent, http.StatusBadRequest, "stripe_event_invalid", "the body is not a Stripe event of the expected API version"),
	httpx.Rule(ErrRefundTooLarge, http.StatusConflict, "refund_too_large", "the refund exceeds what is left to refund on this order"),
	httpx.Rule(ErrReasonRequired, http.StatusUnprocessableEntity, "reason_required", "say why: a reason is required"),
	httpx.Rule(ErrIdempotencyMismatch, http.StatusUnprocessableEntity, "idempotency_key_reused", "this Idempotency-Key was used for a different request"),
	httpx.Rule(ErrNotFound, http.StatusNotFound, "payment_target_not_found", "no such order or user"),
	httpx.Rule(ErrInvalid, http.StatusUnprocessableEntity, "payment_invalid", ""),
	httpx.Rule(ErrProvider, http.StatusBadGateway, "payment_provider_error", "the payment provider did not answer or refused; try again"),
}

type webhookInput struct {
	Signature string `header:"Stripe-Signature" doc:"Stripe's signature of the raw body."`
	// RawBody is the body exactly as sent: the signature covers these bytes, so nothing is
	// bound, validated or re-encoded before it is verified. (Declared as octet-stream: a
	// JSON media type would make huma validate and decode the body first.)
	RawBody []byte
}

type webhookOutput struct {
	Body struct {
		Received  bool `json:"received"`
		Duplicate bool `json:"duplicate" doc:"The event was received before and changed nothing."`
	}
}

// RegisterHTTP adds the Stripe webhook endpoint, POST /api/v1/webhooks/stripe on the base
// host, verified with the endpoint's signing secret. Stripe retries any non-2xx answer.
func RegisterHTTP(api huma.API, svc *Service, secret string) {
	httpx.Register(api, huma.Operation{
		OperationID: "stripe-payment-webhook",
		Method:      http.MethodPost,
		Path:        "/api/v1/webhooks/stripe",
		Summary:     "Receive a Stripe webhook event",
		Description: "Called by Stripe for payment intent and refund events of tenants' payments. The signature " +
			"is verified on the raw body; an event id seen before is acknowledged and ignored.",
		Tags:   []string{"payments"},
		Errors: []int{http.StatusBadRequest},
	}, httpx.Public(httpx.ScopeBase), func(ctx context.Context, in *webhookInput) (*webhookOutput, error) {
		dup, err := svc.ReceiveWebhook(ctx, in.RawBody, in.Signature, secret)
		if err != nil {
			return nil, Problems.Map(err)
		}
		out := &webhookOutput{}
		out.Body.Received, out.Body.Duplicate = true, dup
		return out, nil
	})
}
