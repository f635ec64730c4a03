package payments

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/ledger"
)

// Refund gives amount of an order's payments back, in tx, through the provider each payment
// came from: a wallet payment back to the wallet, a Stripe payment as a Stripe refund, cash
// at the desk. Partial refunds are allowed; reason is required (ErrReasonRequired); actor is
// who asked ("user:<id>", "system:cancel"). tx must be a tenant transaction (store.InTenant):
// a Stripe refund's metadata names the tenant, found from tx's schema, so that its webhooks
// find their way back.
//
// The amount is taken from the order's succeeded payments newest first (a duplicate payment,
// the usual reason for two, is refunded before the original), one refund per payment touched.
// It never exceeds what those payments have left to refund, nor what the order's escrow still
// holds (a settled order's money has moved on to the courier): both are ErrRefundTooLarge,
// with nothing written.
//
// Ledger journals are posted before Stripe is called, so money only leaves once the books
// agree; a Stripe failure (ErrProvider) rolls back everything this call wrote. Wallet and cash
// refunds succeed at once; a Stripe refund is pending until Stripe confirms it (at once, when
// the API says so, or later through the webhook).
//
// With an idemKey a retry returns the first refunds and moves nothing; the key used for another
// amount is ErrIdempotencyMismatch. The Stripe idempotency key is derived from it, so a retry
// after a lost Stripe response does not refund twice. Without an idemKey such a retry could;
// pass one (the HTTP layer's Idempotency-Key, or "order:<id>:cancel" for a cancellation).
func (s *Service) Refund(ctx context.Context, tx *gorm.DB, orderID string, amount ledger.Money,
	reason, actor, idemKey string) ([]Refund, error) {
	reason, err := reasonOf(reason)
	if err != nil {
		return nil, err
	}
	if err := checkAmountAndKey(amount, idemKey); err != nil {
		return nil, err
	}
	var out []Refund
	err = inSavepoint(tx, func(tx *gorm.DB) error {
		if _, err := lockOrder(tx, orderID); err != nil {
			return err
		}
		if idemKey != "" {
			prev, err := refundsByKey(tx, orderID, idemKey)
			if err != nil {
				return err
			}
			if len(prev) > 0 {
				var sum ledger.Money
				for _, r := range prev {
					sum += r.Amount
				}
				if sum != amount {
					return fmt.Errorf("%w: key %q refunded %d", ErrIdempotencyMismatch, idemKey, sum)
				}
				out = prev
				return nil
			}
		}
		ps, err := orderPayments(tx, orderID, true)
		if err != nil {
			return err
		}
		var left ledger.Money
		for _, p := range ps {
			if p.Status == StatusSucceeded {
				left += p.Amount - p.Refunded
			}
		}
		if amount > left {
			return fmt.Errorf("%w: asked %d, the order's payments have %d left", ErrRefundTooLarge, amount, left)
		}
		need := amount
		type stripeCall struct {
			refund  int // index in out
			payment storedPayment
		}
		var calls []stripeCall
		for _, p := range ps {
			if need == 0 {
				break
			}
			rest := p.Amount - p.Refunded
			if p.Status != StatusSucceeded || rest <= 0 {
				continue
			}
			take := min(rest, need)
			need -= take
			r, err := s.refundPayment(tx, p, take, reason, actor, idemKey)
			if err != nil {
				return err
			}
			out = append(out, *r)
			if p.Provider == ProviderStripe {
				calls = append(calls, stripeCall{len(out) - 1, p})
			}
		}
		if len(calls) == 0 {
			return nil
		}
		// Last, once the books have accepted every refund.
		tenantID, err := tenantOf(tx)
		if err != nil {
			return err
		}
		for _, c := range calls {
			if err := s.refundAtStripe(ctx, tx, tenantID, c.payment, &out[c.refund], idemKey); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("refund order %s: %w", orderID, err)
	}
	return out, nil
}

// refundPayment writes one refund of p and its first journal: the escrow gives take back to
// the wallet, to Stripe's refunds in flight, or to the cash desk.
func (s *Service) refundPayment(tx *gorm.DB, p storedPayment, take ledger.Money, reason, actor, key string) (*Refund, error) {
	r := &Refund{
		ID: uuid.NewString(), PaymentID: p.ID, OrderID: p.OrderID, Provider: p.Provider, Amount: take,
		Reason: reason, Status: RefundSucceeded, CreatedBy: actor, CreatedAt: s.now(),
	}
	var to ledger.AccountRef
	switch p.Provider {
	case ProviderWallet:
		to = ledger.Wallet(p.UserID)
	case ProviderOffline:
		to = ledger.Clearing(string(ProviderOffline))
	case ProviderStripe:
		if s.stripe == nil {
			return nil, ErrStripeDisabled
		}
		to = ledger.Refunds(string(ProviderStripe))
		r.Status = RefundPending
	default:
		return nil, fmt.Errorf("payment %s: cannot refund a %s payment of an order", p.ID, p.Provider)
	}
	if err := insertRefund(tx, r, key); err != nil {
		return nil, err
	}
	if err := addRefunded(tx, p.ID, take); err != nil {
		return nil, err
	}
	_, err := ledger.Post(tx, ledger.Journal{
		Kind:           ledger.Refund,
		Ref:            orderRef(p.OrderID),
		IdempotencyKey: "refund:" + r.ID,
		Memo:           reason,
		Actor:          actor,
		Entries:        []ledger.Entry{{Account: ledger.Escrow(p.OrderID), Amount: -take}, {Account: to, Amount: take}},
	})
	if errors.Is(err, ledger.ErrInsufficientFunds) {
		return nil, fmt.Errorf("%w: %w", ErrRefundTooLarge, err)
	}
	if err != nil {
		return nil, err
	}
	return r, nil
}

// refundAtStripe asks Stripe to refund r and records its answer.
func (s *Service) refundAtStripe(ctx context.Context, tx *gorm.DB, tenantID int64, p storedPayment, r *Refund, key string) error {
	stripeKey := "paotui:refund:" + r.ID
	if key != "" {
		sum := sha256.Sum256([]byte(key))
		stripeKey = "paotui:refund:" + p.ID + ":" + hex.EncodeToString(sum[:16])
	}
	sr, err := s.stripe.Refund(ctx, RefundParams{
		IntentID: p.ProviderRef,
		Amount:   int64(r.Amount),
		Metadata: map[string]string{
			"tenant_id": strconv.FormatInt(tenantID, 10), "payment_id": p.ID, "refund_id": r.ID, "order_id": p.OrderID,
		},
		IdempotencyKey: stripeKey,
	})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrProvider, err)
	}
	r.ProviderRef = sr.ID
	switch sr.Status {
	case "succeeded":
		if err := s.confirmStripeRefund(tx, r); err != nil {
			return err
		}
		r.Status = RefundSucceeded
	case "failed", "canceled":
		return fmt.Errorf("%w: stripe refused refund %s (%s)", ErrProvider, sr.ID, sr.Status)
	}
	return setRefund(tx, r.ID, sr.ID, r.Status)
}

// confirmStripeRefund moves a refund Stripe has made out of the refunds in flight.
func (s *Service) confirmStripeRefund(tx *gorm.DB, r *Refund) error {
	_, err := ledger.Post(tx, ledger.Journal{
		Kind:           ledger.Refund,
		Ref:            orderRef(r.OrderID),
		IdempotencyKey: "refund:" + r.ID + ":confirmed",
		Memo:           "stripe refund " + r.ProviderRef + " succeeded",
		Actor:          "system:stripe",
		Entries: []ledger.Entry{
			{Account: ledger.Refunds(string(ProviderStripe)), Amount: -r.Amount},
			{Account: ledger.Clearing(string(ProviderStripe)), Amount: r.Amount},
		},
	})
	if errors.Is(err, ledger.ErrDuplicate) {
		return nil
	}
	return err
}

// failStripeRefund gives a refund Stripe could not make back to the order's escrow and the
// payment.
func (s *Service) failStripeRefund(tx *gorm.DB, r *Refund) error {
	_, err := ledger.Post(tx, ledger.Journal{
		Kind:           ledger.Refund,
		Ref:            orderRef(r.OrderID),
		IdempotencyKey: "refund:" + r.ID + ":failed",
		Memo:           "stripe refund " + r.ProviderRef + " failed",
		Actor:          "system:stripe",
		Entries: []ledger.Entry{
			{Account: ledger.Refunds(string(ProviderStripe)), Amount: -r.Amount},
			{Account: ledger.Escrow(r.OrderID), Amount: r.Amount},
		},
	})
	if err != nil && !errors.Is(err, ledger.ErrDuplicate) {
		return err
	}
	return addRefunded(tx, r.PaymentID, -r.Amount)
}
