package payments

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/jobs"
	"github.com/paotui/paotui/internal/ledger"
	"github.com/paotui/paotui/internal/store"
)

// Service takes payments and makes refunds. It is safe for concurrent use.
type Service struct {
	db     *store.DB
	stripe Stripe
	outbox *jobs.Outbox
	log    *slog.Logger
	now    func() time.Time
	// publishable is the Stripe publishable key the apps confirm payments with.
	publishable string
}

// New returns the payments service. stripe may be nil: Stripe is then disabled
// (ErrStripeDisabled) and the wallet, cash and staff credits still work.
func New(db *store.DB, stripe Stripe, outbox *jobs.Outbox, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if outbox == nil {
		outbox = jobs.NewOutbox()
	}
	return &Service{db: db, stripe: stripe, outbox: outbox, log: log, now: func() time.Time { return time.Now().UTC() }}
}

// WithPublishableKey sets the Stripe publishable key (pk_...) that answers carrying a client
// secret also carry, so the app can confirm the payment with Stripe.js. Call it before the
// service is used; "" (the default) sends none, and the apps then offer no card payment.
func (s *Service) WithPublishableKey(key string) *Service {
	s.publishable = key
	return s
}

// PublishableKey is the key set by WithPublishableKey; "" when Stripe is disabled, since a
// key without a working secret key would only lead the app to a payment it cannot start.
func (s *Service) PublishableKey() string {
	if s.stripe == nil {
		return ""
	}
	return s.publishable
}

// maxReason matches the length CHECK on payments.reason and refunds.reason.
const maxReason = 500

func reasonOf(reason string) (string, error) {
	r := strings.TrimSpace(reason)
	if r == "" {
		return "", ErrReasonRequired
	}
	if len(r) > maxReason {
		return "", fmt.Errorf("%w: reason longer than %d bytes", ErrInvalid, maxReason)
	}
	return r, nil
}

// maxKey matches the length CHECK on idempotency_key.
const maxKey = 200

func checkAmountAndKey(amount ledger.Money, key string) error {
	if amount <= 0 {
		return fmt.Errorf("%w: amount %d must be positive", ErrInvalid, amount)
	}
	if len(key) > maxKey {
		return fmt.Errorf("%w: idempotency key longer than %d bytes", ErrInvalid, maxKey)
	}
	return nil
}

func userActor(userID string) string { return "user:" + userID }

func orderRef(orderID string) string { return "order:" + orderID }

func paymentRef(paymentID string) string { return "payment:" + paymentID }

// PayFromWallet pays an order from its student's wallet in tx: wallet → the order's escrow. The
// payment has succeeded when tx commits; the caller moves the order on in the same tx.
//
// With an idemKey, a retry returns the first payment and posts nothing; the key used for
// another order, amount or provider is ErrIdempotencyMismatch. It refuses, writing nothing and
// leaving tx usable: ErrInsufficientFunds (wrapping ledger's *FundsError), ErrAlreadyPaid,
// ErrNotFound (no such order, or not userID's).
func (s *Service) PayFromWallet(tx *gorm.DB, orderID, userID string, amount ledger.Money, idemKey string) (*Payment, error) {
	if err := checkAmountAndKey(amount, idemKey); err != nil {
		return nil, err
	}
	var out *Payment
	err := inSavepoint(tx, func(tx *gorm.DB) error {
		p, err := s.payOrder(tx, orderID, userID, amount, idemKey, ProviderWallet, userActor(userID), "",
			ledger.Wallet(userID), "wallet payment")
		out = p
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("pay order %s from wallet: %w", orderID, err)
	}
	return out, nil
}

// MarkOffline records, in tx, that staff received amount for an order outside the app (cash,
// a transfer): clearing:offline → the order's escrow. staffActor is who marked it
// ("user:<id>"); reason is required. It refuses like PayFromWallet (ErrAlreadyPaid,
// ErrNotFound, ErrReasonRequired), writing nothing.
func (s *Service) MarkOffline(tx *gorm.DB, orderID, userID string, amount ledger.Money, staffActor, reason string) (*Payment, error) {
	reason, err := reasonOf(reason)
	if err != nil {
		return nil, err
	}
	if err := checkAmountAndKey(amount, ""); err != nil {
		return nil, err
	}
	var out *Payment
	err = inSavepoint(tx, func(tx *gorm.DB) error {
		p, err := s.payOrder(tx, orderID, userID, amount, "", ProviderOffline, staffActor, reason,
			ledger.Clearing(string(ProviderOffline)), reason)
		out = p
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("mark order %s paid offline: %w", orderID, err)
	}
	return out, nil
}

// payOrder is a payment that succeeds at once: from source into the order's escrow.
func (s *Service) payOrder(tx *gorm.DB, orderID, userID string, amount ledger.Money, key string,
	provider Provider, actor, reason string, source ledger.AccountRef, memo string) (*Payment, error) {
	if err := lockOrderOf(tx, orderID, userID); err != nil {
		return nil, err
	}
	want := Payment{Purpose: PurposeOrder, OrderID: orderID, UserID: userID, Provider: provider, Amount: amount}
	if key != "" {
		// After the order lock: a retry racing the first request sees it committed.
		if p, err := replay(tx, want, key); p != nil || err != nil {
			return p, err
		}
	}
	ps, err := orderPayments(tx, orderID, false)
	if err != nil {
		return nil, err
	}
	if hasSucceeded(ps) {
		return nil, ErrAlreadyPaid
	}
	now := s.now()
	p := want
	p.ID = uuid.NewString()
	p.Currency = Currency
	p.Status = StatusSucceeded
	p.Reason = reason
	p.CreatedBy = actor
	p.CreatedAt = now
	p.SucceededAt = &now
	ok, err := insertPayment(tx, &p, key)
	if err != nil {
		return nil, err
	}
	if !ok { // the key was taken meanwhile, by a payment of another order
		p, err := replay(tx, want, key)
		if err == nil && p == nil {
			err = fmt.Errorf("idempotency key %q conflicted but its payment is not visible", key)
		}
		return p, err
	}
	_, err = ledger.Post(tx, ledger.Journal{
		Kind:           ledger.Payment,
		Ref:            orderRef(orderID),
		IdempotencyKey: paymentRef(p.ID),
		Memo:           memo,
		Actor:          actor,
		Entries:        []ledger.Entry{{Account: source, Amount: -amount}, {Account: ledger.Escrow(orderID), Amount: amount}},
	})
	if errors.Is(err, ledger.ErrInsufficientFunds) {
		return nil, fmt.Errorf("%w: %w", ErrInsufficientFunds, err)
	}
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// replay returns the payment created under key when it is the same request as want, nil when
// there is none, and ErrIdempotencyMismatch when the key was used for something else.
func replay(tx *gorm.DB, want Payment, key string) (*Payment, error) {
	p, err := paymentByKey(tx, want.UserID, want.Purpose, key)
	if err != nil || p == nil {
		return nil, err
	}
	if p.OrderID != want.OrderID || p.Amount != want.Amount || p.Provider != want.Provider || p.Method != want.Method {
		return nil, fmt.Errorf("%w: key %q is payment %s", ErrIdempotencyMismatch, key, p.ID)
	}
	return &p.Payment, nil
}

// TopupByStaff credits a student's wallet in tx with tenant-funded money (compensation,
// goodwill, a correction): subsidy → wallet, an adjustment journal whose memo is the reason.
// staffActor is who did it ("user:<id>"); reason is required (ErrReasonRequired).
func (s *Service) TopupByStaff(tx *gorm.DB, userID string, amount ledger.Money, staffActor, reason string) (*Payment, error) {
	reason, err := reasonOf(reason)
	if err != nil {
		return nil, err
	}
	if err := checkAmountAndKey(amount, ""); err != nil {
		return nil, err
	}
	now := s.now()
	p := Payment{
		ID: uuid.NewString(), Purpose: PurposeTopup, UserID: userID, Provider: ProviderStaff, Amount: amount,
		Currency: Currency, Status: StatusSucceeded, Reason: reason, CreatedBy: staffActor, CreatedAt: now, SucceededAt: &now,
	}
	err = inSavepoint(tx, func(tx *gorm.DB) error {
		if err := userExists(tx, userID); err != nil {
			return err
		}
		if _, err := insertPayment(tx, &p, ""); err != nil {
			return err
		}
		_, err := ledger.Post(tx, ledger.Journal{
			Kind:           ledger.Adjustment,
			Ref:            paymentRef(p.ID),
			IdempotencyKey: paymentRef(p.ID),
			Memo:           reason,
			Actor:          staffActor,
			Entries:        []ledger.Entry{{Account: ledger.Subsidy(), Amount: -amount}, {Account: ledger.Wallet(userID), Amount: amount}},
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("top up wallet of %s: %w", userID, err)
	}
	return &p, nil
}

// StartStripe starts a Stripe payment of an order (purpose PurposeOrder) or a wallet top-up
// (PurposeTopup, orderID ""): it writes a pending payment in tx and creates a PaymentIntent
// for it, offering only method, and returns the payment and the intent's client secret for
// the student's app to confirm. The client secret is not stored. The payment succeeds later,
// through the webhook (HandleStripeEvent), which emits "payments:succeeded".
//
// The Stripe call is made inside tx, keyed by the payment id: a caller's retry never creates a
// second intent, and the order lock is held for the length of one API call (the timeout is
// stripeapi.Timeout). If tx then rolls back, the intent stays at Stripe unused.
//
// With an idemKey, a retry returns the same payment and client secret (read back from Stripe).
// Errors: ErrStripeDisabled, ErrMethodNotAllowed (per the tenant's "payments" settings),
// ErrAlreadyPaid, ErrNotFound, ErrIdempotencyMismatch, ErrProvider (Stripe failed; nothing
// written).
func (s *Service) StartStripe(ctx context.Context, tx *gorm.DB, tenantID int64, purpose Purpose, orderID, userID string,
	amount ledger.Money, method, idemKey string) (*Payment, string, error) {
	if s.stripe == nil {
		return nil, "", ErrStripeDisabled
	}
	if err := checkAmountAndKey(amount, idemKey); err != nil {
		return nil, "", err
	}
	switch {
	case tenantID <= 0:
		return nil, "", fmt.Errorf("%w: tenant id %d", ErrInvalid, tenantID)
	case purpose == PurposeOrder && orderID == "", purpose == PurposeTopup && orderID != "":
		return nil, "", fmt.Errorf("%w: a %s payment with order %q", ErrInvalid, purpose, orderID)
	case purpose != PurposeOrder && purpose != PurposeTopup:
		return nil, "", fmt.Errorf("%w: purpose %q", ErrInvalid, purpose)
	}
	var (
		out    *Payment
		secret string
	)
	err := inSavepoint(tx, func(tx *gorm.DB) error {
		allowed, err := allowedMethods(tx)
		if err != nil {
			return err
		}
		if !slices.Contains(allowed, method) {
			return fmt.Errorf("%w: %q (allowed: %v)", ErrMethodNotAllowed, method, allowed)
		}
		if purpose == PurposeOrder {
			if err := lockOrderOf(tx, orderID, userID); err != nil {
				return err
			}
		} else if err := userExists(tx, userID); err != nil {
			return err
		}
		want := Payment{Purpose: purpose, OrderID: orderID, UserID: userID, Provider: ProviderStripe, Method: method, Amount: amount}
		// again answers a retry: the same payment, and its client secret read back from Stripe.
		again := func() (bool, error) {
			p, err := replay(tx, want, idemKey)
			if err != nil || p == nil {
				return false, err
			}
			if p.ProviderRef == "" {
				return false, fmt.Errorf("payment %s has no payment intent", p.ID)
			}
			in, err := s.stripe.GetIntent(ctx, p.ProviderRef)
			if err != nil {
				return false, fmt.Errorf("%w: %w", ErrProvider, err)
			}
			out, secret = p, in.ClientSecret
			return true, nil
		}
		if idemKey != "" {
			if done, err := again(); done || err != nil {
				return err
			}
		}
		if purpose == PurposeOrder {
			ps, err := orderPayments(tx, orderID, false)
			if err != nil {
				return err
			}
			if hasSucceeded(ps) {
				return ErrAlreadyPaid
			}
		}
		p := want
		p.ID = uuid.NewString()
		p.Currency = Currency
		p.Status = StatusPending
		p.CreatedBy = userActor(userID)
		p.CreatedAt = s.now()
		ok, err := insertPayment(tx, &p, idemKey)
		if err != nil {
			return err
		}
		if !ok { // a concurrent request with the key committed first; it made the intent
			done, err := again()
			if err == nil && !done {
				err = fmt.Errorf("idempotency key %q conflicted but its payment is not visible", idemKey)
			}
			return err
		}
		meta := map[string]string{"tenant_id": strconv.FormatInt(tenantID, 10), "payment_id": p.ID, "purpose": string(purpose)}
		if orderID != "" {
			meta["order_id"] = orderID
		}
		in, err := s.stripe.CreateIntent(ctx, IntentParams{
			Amount: int64(amount), Currency: Currency, Method: method, Metadata: meta,
			IdempotencyKey: "paotui:payment:" + p.ID,
		})
		if err != nil {
			return fmt.Errorf("%w: %w", ErrProvider, err)
		}
		if err := setProviderRef(tx, p.ID, in.ID); err != nil {
			return err
		}
		p.ProviderRef = in.ID
		out, secret = &p, in.ClientSecret
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("start stripe %s payment: %w", purpose, err)
	}
	return out, secret, nil
}

// ForOrder lists an order's payments, newest first.
func (s *Service) ForOrder(tx *gorm.DB, orderID string) ([]Payment, error) {
	if err := validID("order", orderID); err != nil {
		return nil, err
	}
	ps, err := orderPayments(tx, orderID, false)
	if err != nil {
		return nil, err
	}
	out := make([]Payment, len(ps))
	for i, p := range ps {
		out[i] = p.Payment
	}
	return out, nil
}

// RefundsForOrder lists an order's refunds, oldest first.
func (s *Service) RefundsForOrder(tx *gorm.DB, orderID string) ([]Refund, error) {
	if err := validID("order", orderID); err != nil {
		return nil, err
	}
	return orderRefunds(tx, orderID)
}

// Wallet returns a user's wallet balance and a page of its statement, newest first: limit
// (1..ledger.MaxHistory, 0 means 50) lines older than entry beforeID (0: the newest). Pass the
// last line's EntryID to get the next page.
func (s *Service) Wallet(tx *gorm.DB, userID string, beforeID int64, limit int) (ledger.Money, []ledger.Posting, error) {
	if err := validID("user", userID); err != nil {
		return 0, nil, err
	}
	bal, err := ledger.Balance(tx, ledger.Wallet(userID))
	if err != nil {
		return 0, nil, err
	}
	lines, err := ledger.History(tx, ledger.Wallet(userID), beforeID, limit)
	if err != nil {
		return 0, nil, err
	}
	return bal, lines, nil
}
