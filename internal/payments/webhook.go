package payments

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/jobs"
)

// Events whose object's state the job applies. Others are recorded and ignored.
var (
	intentEvents = map[stripe.EventType]bool{
		stripe.EventTypePaymentIntentSucceeded:     true,
		stripe.EventTypePaymentIntentPaymentFailed: true,
		stripe.EventTypePaymentIntentCanceled:      true,
	}
	refundEvents = map[stripe.EventType]bool{
		stripe.EventTypeChargeRefundUpdated: true,
		stripe.EventTypeRefundUpdated:       true,
	}
)

// eventObject is what ReceiveWebhook reads of an event's object: enough to route it. The job
// re-fetches the object itself.
type eventObject struct {
	ID            string          `json:"id"`
	Object        string          `json:"object"`
	Metadata      map[string]any  `json:"metadata"`
	PaymentIntent json.RawMessage `json:"payment_intent"` // an id, or the expanded object
}

func (o eventObject) meta(key string) string {
	s, _ := o.Metadata[key].(string)
	return s
}

func (o eventObject) intentID() string {
	var id string
	if json.Unmarshal(o.PaymentIntent, &id) == nil {
		return id
	}
	var expanded struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(o.PaymentIntent, &expanded)
	return expanded.ID
}

// verifiedEvent is a webhook delivery whose signature verified, reduced to what routing needs.
type verifiedEvent struct {
	id       string
	typ      stripe.EventType
	objectID string
	tenantID int64            // from the object's metadata; 0 when absent or malformed
	task     *StripeEventData // nil: an event this package ignores
}

// verifyEvent checks the signature on the raw payload before reading it, then reads the event.
// Errors wrap ErrBadSignature (also for an empty secret) or ErrBadEvent (not JSON, not an
// event, another API version than stripe.APIVersion).
func verifyEvent(payload []byte, sigHeader, secret string) (verifiedEvent, error) {
	if secret == "" {
		return verifiedEvent{}, fmt.Errorf("%w: no webhook signing secret configured", ErrBadSignature)
	}
	ev, err := webhook.ConstructEvent(payload, sigHeader, secret)
	switch {
	case errors.Is(err, webhook.ErrNotSigned), errors.Is(err, webhook.ErrInvalidHeader),
		errors.Is(err, webhook.ErrNoValidSignature), errors.Is(err, webhook.ErrTooOld):
		return verifiedEvent{}, fmt.Errorf("%w: %w", ErrBadSignature, err)
	case err != nil:
		return verifiedEvent{}, fmt.Errorf("%w: %w", ErrBadEvent, err)
	case ev.ID == "" || ev.Data == nil:
		return verifiedEvent{}, fmt.Errorf("%w: no id or data", ErrBadEvent)
	}
	var obj eventObject
	if err := json.Unmarshal(ev.Data.Raw, &obj); err != nil {
		return verifiedEvent{}, fmt.Errorf("%w: object: %w", ErrBadEvent, err)
	}
	out := verifiedEvent{id: ev.ID, typ: ev.Type, objectID: obj.ID}
	if id, err := strconv.ParseInt(obj.meta("tenant_id"), 10, 64); err == nil && id > 0 {
		out.tenantID = id
	}
	switch {
	case intentEvents[ev.Type] && obj.Object == "payment_intent" && obj.ID != "":
		out.task = &StripeEventData{EventID: ev.ID, PaymentIntentID: obj.ID}
	case refundEvents[ev.Type] && obj.Object == "refund" && obj.ID != "":
		out.task = &StripeEventData{EventID: ev.ID, PaymentIntentID: obj.intentID(), RefundID: obj.ID}
	}
	return out, nil
}

// ReceiveWebhook takes one Stripe webhook delivery: the raw request body, its Stripe-Signature
// header and the endpoint's signing secret. It verifies the signature on the raw bytes before
// reading anything (ErrBadSignature; also for an empty secret), parses the event (ErrBadEvent
// for another API version than stripe.APIVersion), then, in one control-plane transaction,
// records the event id in public.stripe_events and, for payment intent and refund events of a
// known tenant (metadata tenant_id), adds a "payments:stripe_event" outbox row for that
// tenant. An event id seen before returns duplicate=true and writes nothing. Events of other
// types, or naming no known tenant, are recorded and otherwise ignored (nil error), so Stripe
// stops resending them. On an error the caller answers non-2xx and Stripe retries.
func (s *Service) ReceiveWebhook(ctx context.Context, payload []byte, sigHeader, secret string) (duplicate bool, err error) {
	ev, err := verifyEvent(payload, sigHeader, secret)
	if err != nil {
		return false, err
	}
	err = s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// The subquery leaves tenant_id NULL for an id that is no tenant (the foreign key
		// would otherwise fail the delivery forever).
		rows, err := tx.Raw(`INSERT INTO public.stripe_events (event_id, type, tenant_id, object_id)
			VALUES (?, ?, (SELECT id FROM public.tenants WHERE id = ?), ?)
			ON CONFLICT (event_id) DO NOTHING
			RETURNING tenant_id`, ev.id, string(ev.typ), ev.tenantID, ev.objectID).Rows()
		if err != nil {
			return fmt.Errorf("record stripe event: %w", err)
		}
		var tenant sql.NullInt64
		inserted := rows.Next()
		if inserted {
			err = rows.Scan(&tenant)
		}
		if cerr := rows.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = rows.Err()
		}
		if err != nil {
			return fmt.Errorf("record stripe event: %w", err)
		}
		if !inserted {
			duplicate = true
			return nil
		}
		if ev.task == nil || !tenant.Valid {
			s.log.DebugContext(ctx, "stripe event ignored", "event", ev.id, "type", ev.typ, "tenant", ev.tenantID)
			return nil
		}
		return s.outbox.Add(tx, jobs.Message{TenantID: tenant.Int64, Type: TaskStripeEvent, Data: ev.task, Queue: jobs.QueueCritical})
	})
	if err != nil {
		return false, err
	}
	return duplicate, nil
}
