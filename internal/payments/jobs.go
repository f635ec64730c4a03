package payments

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/hibiken/asynq"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/jobs"
	"github.com/paotui/paotui/internal/ledger"
	"github.com/paotui/paotui/internal/platform/tenancy"
)

// Task types: the one this package handles and the ones it emits for other domains.
const (
	// TaskStripeEvent applies a Stripe webhook event (StripeEventData); HandleStripeEvent.
	TaskStripeEvent = "payments:stripe_event"
	// TaskSucceeded says an asynchronous (Stripe) payment succeeded (SucceededData). The
	// orders domain moves a paid order on, or refunds a payment the order no longer wants.
	// Wallet and cash payments succeed inside the caller's transaction and emit nothing.
	TaskSucceeded = "payments:succeeded"
	// TaskRefundFailed says Stripe could not make a refund (RefundFailedData): its amount is
	// back in the order's escrow and the payment's refundable amount.
	TaskRefundFailed = "payments:refund_failed"
)

// StripeEventData is the payload of TaskStripeEvent: ids only; the job re-fetches the object.
type StripeEventData struct {
	EventID         string `json:"eventId"`
	PaymentIntentID string `json:"paymentIntentId,omitempty"`
	RefundID        string `json:"refundId,omitempty"` // set for refund events
}

// SucceededData is the payload of TaskSucceeded.
type SucceededData struct {
	PaymentID string       `json:"paymentId"`
	OrderID   string       `json:"orderId,omitempty"` // empty for a top-up
	Purpose   Purpose      `json:"purpose"`
	UserID    string       `json:"userId"`
	Amount    ledger.Money `json:"amount"`
}

// RefundFailedData is the payload of TaskRefundFailed.
type RefundFailedData struct {
	RefundID  string       `json:"refundId"`
	PaymentID string       `json:"paymentId"`
	OrderID   string       `json:"orderId"`
	Amount    ledger.Money `json:"amount"`
}

// NewStripeEventTask is the task HandleStripeEvent handles (the outbox relay builds the same
// envelope from the row ReceiveWebhook writes).
func NewStripeEventTask(tenantID int64, data StripeEventData) (*asynq.Task, error) {
	return jobs.NewTask(TaskStripeEvent, tenantID, data, asynq.Queue(jobs.QueueCritical))
}

// errNotOurs marks objects that will never apply here; the task is archived, not retried.
var errNotOurs = errors.New("stripe object does not belong to this tenant's payments")

// HandleStripeEvent applies a Stripe event in the task's tenant (tenancy.From(ctx), set by the
// jobs server). It re-fetches the PaymentIntent (or refund) from Stripe instead of trusting the
// event, so events arriving late or out of order converge on Stripe's current state:
//
//   - an intent that succeeded: a pending (or failed, or cancelled) payment succeeds, its
//     journal is posted (clearing:stripe → the order's escrow, or → the wallet for a top-up)
//     and "payments:succeeded" is added to the outbox, all in one transaction;
//   - an intent that was cancelled: the payment is cancelled; one that needs another payment
//     method after a failed attempt: a pending payment is failed (the student may retry);
//   - a refund that succeeded: its amount leaves the refunds in flight for Stripe's clearing;
//     one that failed or was cancelled: its amount goes back to the escrow and the payment,
//     and "payments:refund_failed" is added to the outbox.
//
// Running it again changes nothing. Stripe errors are retried; an object that is not this
// tenant's, or whose amount disagrees with the payment, is archived (asynq.SkipRetry) and
// logged.
func (s *Service) HandleStripeEvent(ctx context.Context, t *asynq.Task) error {
	tenantID, data, err := jobs.Decode[StripeEventData](t)
	if err != nil {
		return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	tn, ok := tenancy.From(ctx)
	if !ok || tn.ID != tenantID {
		return fmt.Errorf("stripe event %s: no tenant %d in the job's context: %w", data.EventID, tenantID, asynq.SkipRetry)
	}
	if s.stripe == nil {
		return fmt.Errorf("stripe event %s: %w", data.EventID, ErrStripeDisabled)
	}
	if data.RefundID != "" {
		err = s.syncRefund(ctx, tn, data.RefundID)
	} else {
		err = s.syncIntent(ctx, tn, data.PaymentIntentID)
	}
	if errors.Is(err, errNotOurs) {
		s.log.ErrorContext(ctx, "stripe event not applied", "event", data.EventID, "tenant", tn.ID, "err", err)
		return fmt.Errorf("stripe event %s: %w: %w", data.EventID, err, asynq.SkipRetry)
	}
	if err != nil {
		return fmt.Errorf("stripe event %s: %w", data.EventID, err)
	}
	return nil
}

func (s *Service) syncIntent(ctx context.Context, tn *tenancy.Tenant, intentID string) error {
	if intentID == "" {
		return fmt.Errorf("%w: no payment intent id", errNotOurs)
	}
	// Outside the transaction: no lock is held while Stripe answers.
	in, err := s.stripe.GetIntent(ctx, intentID)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrProvider, err)
	}
	if in.Metadata["tenant_id"] != strconv.FormatInt(tn.ID, 10) {
		return fmt.Errorf("%w: intent %s is for tenant %q", errNotOurs, in.ID, in.Metadata["tenant_id"])
	}
	return s.db.InTenant(ctx, tn, func(tx *gorm.DB) error {
		p, err := paymentByRef(tx, in.ID)
		if err != nil {
			return err
		}
		if p == nil {
			// An intent whose creating transaction rolled back: nobody got its client secret.
			s.log.WarnContext(ctx, "stripe intent has no payment", "intent", in.ID, "tenant", tn.ID, "status", in.Status)
			return nil
		}
		if id := in.Metadata["payment_id"]; id != "" && id != p.ID {
			return fmt.Errorf("%w: intent %s names payment %s, not %s", errNotOurs, in.ID, id, p.ID)
		}
		switch in.Status {
		case "succeeded":
			return s.succeed(tx, tn, p, in)
		case "canceled":
			if p.Status == StatusPending || p.Status == StatusFailed {
				return setPaymentStatus(tx, p.ID, StatusCancelled, s.now())
			}
		case "requires_payment_method":
			if p.Status == StatusPending {
				return setPaymentStatus(tx, p.ID, StatusFailed, s.now())
			}
		}
		return nil
	})
}

// succeed books a Stripe payment whose intent succeeded.
func (s *Service) succeed(tx *gorm.DB, tn *tenancy.Tenant, p *storedPayment, in Intent) error {
	if p.Status == StatusSucceeded {
		return nil
	}
	if in.Amount != int64(p.Amount) || in.Currency != p.Currency {
		return fmt.Errorf("%w: intent %s is %d %s, payment %s is %d %s", errNotOurs,
			in.ID, in.Amount, in.Currency, p.ID, p.Amount, p.Currency)
	}
	if err := setPaymentStatus(tx, p.ID, StatusSucceeded, s.now()); err != nil {
		return err
	}
	j := ledger.Journal{
		Kind:           ledger.Payment,
		Ref:            orderRef(p.OrderID),
		IdempotencyKey: "stripe:" + in.ID,
		Memo:           "stripe " + p.Method + " payment " + in.ID,
		Actor:          "system:stripe",
		Entries: []ledger.Entry{
			{Account: ledger.Clearing(string(ProviderStripe)), Amount: -p.Amount},
			{Account: ledger.Escrow(p.OrderID), Amount: p.Amount},
		},
	}
	if p.Purpose == PurposeTopup {
		j.Kind = ledger.TopUp
		j.Ref = paymentRef(p.ID)
		j.Memo = "stripe " + p.Method + " top-up " + in.ID
		j.Entries[1].Account = ledger.Wallet(p.UserID)
	}
	if _, err := ledger.Post(tx, j); err != nil && !errors.Is(err, ledger.ErrDuplicate) {
		return err
	}
	return s.outbox.Add(tx, jobs.Message{
		TenantID: tn.ID,
		Type:     TaskSucceeded,
		Data:     SucceededData{PaymentID: p.ID, OrderID: p.OrderID, Purpose: p.Purpose, UserID: p.UserID, Amount: p.Amount},
		Queue:    jobs.QueueCritical,
	})
}

func (s *Service) syncRefund(ctx context.Context, tn *tenancy.Tenant, refundID string) error {
	sr, err := s.stripe.GetRefund(ctx, refundID)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrProvider, err)
	}
	if sr.Metadata["tenant_id"] != strconv.FormatInt(tn.ID, 10) {
		return fmt.Errorf("%w: refund %s is for tenant %q", errNotOurs, sr.ID, sr.Metadata["tenant_id"])
	}
	return s.db.InTenant(ctx, tn, func(tx *gorm.DB) error {
		r, err := refundByRef(tx, sr.ID)
		if err != nil {
			return err
		}
		if r == nil {
			// Made outside Paotui (the Stripe dashboard), or by a transaction that rolled back.
			s.log.WarnContext(ctx, "stripe refund has no refund row", "refund", sr.ID, "tenant", tn.ID, "status", sr.Status)
			return nil
		}
		if r.Status != RefundPending {
			return nil
		}
		switch sr.Status {
		case "succeeded":
			if err := s.confirmStripeRefund(tx, r); err != nil {
				return err
			}
			return setRefund(tx, r.ID, "", RefundSucceeded)
		case "failed", "canceled":
			if err := s.failStripeRefund(tx, r); err != nil {
				return err
			}
			if err := setRefund(tx, r.ID, "", RefundFailed); err != nil {
				return err
			}
			return s.outbox.Add(tx, jobs.Message{
				TenantID: tn.ID,
				Type:     TaskRefundFailed,
				Data:     RefundFailedData{RefundID: r.ID, PaymentID: r.PaymentID, OrderID: r.OrderID, Amount: r.Amount},
				Queue:    jobs.QueueCritical,
			})
		}
		return nil
	})
}
