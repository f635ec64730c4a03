package payments_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/stripe/stripe-go/v76"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/ledger"
	"github.com/paotui/paotui/internal/payments"
)

func (e *env) refund(orderID string, amount ledger.Money, reason, key string) ([]payments.Refund, error) {
	var out []payments.Refund
	err := e.in(func(tx *gorm.DB) error {
		var err error
		out, err = e.svc.Refund(context.Background(), tx, orderID, amount, reason, "user:staff", key)
		return err
	})
	return out, err
}

func (e *env) refunded(t *testing.T, paymentID string) ledger.Money {
	t.Helper()
	var m ledger.Money
	e.must(t, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT refunded FROM payments WHERE id = ?`, paymentID).Scan(&m).Error
	})
	return m
}

func TestRefundWallet(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := e.user(t)
	o := e.order(t, u, 1500)
	e.fund(t, u, 1500)
	var p *payments.Payment
	e.must(t, func(tx *gorm.DB) error {
		var err error
		p, err = e.svc.PayFromWallet(tx, o, u, 1500, "")
		return err
	})

	rs, err := e.refund(o, 500, "courier was late", "refund-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0].Amount != 500 || rs[0].Status != payments.RefundSucceeded || rs[0].PaymentID != p.ID ||
		rs[0].Provider != payments.ProviderWallet || rs[0].Reason != "courier was late" {
		t.Fatalf("refunds = %+v", rs)
	}
	if b := e.balance(t, ledger.Wallet(u)); b != 500 {
		t.Errorf("wallet = %d, want 500", b)
	}
	if b := e.balance(t, ledger.Escrow(o)); b != 1000 {
		t.Errorf("escrow = %d, want 1000", b)
	}

	t.Run("replay returns the first refund", func(t *testing.T) {
		before := e.snapshot(t)
		again, err := e.refund(o, 500, "courier was late", "refund-1")
		if err != nil || len(again) != 1 || again[0].ID != rs[0].ID {
			t.Errorf("replay = %+v, %v", again, err)
		}
		if after := e.snapshot(t); after != before {
			t.Errorf("replay wrote something:\n before %s\n after  %s", before, after)
		}
	})

	refusals := []struct {
		name   string
		amount ledger.Money
		reason string
		key    string
		want   error
	}{
		{"more than is left", 1001, "too much", "", payments.ErrRefundTooLarge},
		{"no reason", 100, " ", "", payments.ErrReasonRequired},
		{"same key, other amount", 100, "x", "refund-1", payments.ErrIdempotencyMismatch},
		{"zero", 0, "x", "", payments.ErrInvalid},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			before := e.snapshot(t)
			if _, err := e.refund(o, tc.amount, tc.reason, tc.key); !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			if after := e.snapshot(t); after != before {
				t.Errorf("refusal wrote something:\n before %s\n after  %s", before, after)
			}
		})
	}

	// The rest, in full.
	if _, err := e.refund(o, 1000, "order cancelled", ""); err != nil {
		t.Fatal(err)
	}
	if b := e.balance(t, ledger.Wallet(u)); b != 1500 {
		t.Errorf("wallet = %d, want 1500", b)
	}
	if b := e.balance(t, ledger.Escrow(o)); b != 0 {
		t.Errorf("escrow = %d, want 0", b)
	}
	if r := e.refunded(t, p.ID); r != 1500 {
		t.Errorf("refunded = %d, want 1500", r)
	}
	if _, err := e.refund(o, 1, "once more", ""); !errors.Is(err, payments.ErrRefundTooLarge) {
		t.Errorf("after a full refund: err = %v, want ErrRefundTooLarge", err)
	}
	var list []payments.Refund
	e.must(t, func(tx *gorm.DB) error {
		var err error
		list, err = e.svc.RefundsForOrder(tx, o)
		return err
	})
	if len(list) != 2 {
		t.Errorf("RefundsForOrder = %+v", list)
	}
}

// An order whose money has moved on (settled to the courier) has nothing left in escrow: the
// ledger refuses the refund and nothing changes.
func TestRefundNeverExceedsEscrow(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := e.user(t)
	courier := e.user(t)
	o := e.order(t, u, 1500)
	e.must(t, func(tx *gorm.DB) error {
		if _, err := e.svc.MarkOffline(tx, o, u, 1500, "user:staff", "cash"); err != nil {
			return err
		}
		_, err := ledger.Post(tx, ledger.Journal{Kind: ledger.Settlement, Ref: "order:" + o, Actor: "system:settle",
			Entries: []ledger.Entry{
				{Account: ledger.Escrow(o), Amount: -1500},
				{Account: ledger.Earnings(courier), Amount: 1200},
				{Account: ledger.Revenue(), Amount: 300},
			}})
		return err
	})
	before := e.snapshot(t)
	_, err := e.refund(o, 100, "complaint", "")
	if !errors.Is(err, payments.ErrRefundTooLarge) {
		t.Fatalf("err = %v, want ErrRefundTooLarge", err)
	}
	var fe *ledger.FundsError
	if !errors.As(err, &fe) || fe.Account != ledger.Escrow(o) {
		t.Errorf("funds error = %#v", fe)
	}
	if after := e.snapshot(t); after != before {
		t.Errorf("refusal wrote something:\n before %s\n after  %s", before, after)
	}
}

func TestRefundOffline(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := e.user(t)
	o := e.order(t, u, 1500)
	e.must(t, func(tx *gorm.DB) error {
		_, err := e.svc.MarkOffline(tx, o, u, 1500, "user:staff", "cash")
		return err
	})
	rs, err := e.refund(o, 1500, "cancelled before pickup", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0].Status != payments.RefundSucceeded || rs[0].Provider != payments.ProviderOffline {
		t.Errorf("refunds = %+v", rs)
	}
	if b := e.balance(t, ledger.Clearing("offline")); b != 0 {
		t.Errorf("clearing:offline = %d, want 0", b)
	}
}

// stripePaid makes a Stripe payment of a new order and books it through the webhook job.
func (e *env) stripePaid(t *testing.T, amount ledger.Money) (*payments.Payment, string) {
	t.Helper()
	u := e.user(t)
	o := e.order(t, u, amount)
	p, _ := e.startStripe(t, payments.PurposeOrder, o, u, amount, "")
	e.fake.setIntent(p.ProviderRef, "succeeded")
	payload, header := event(t, "evt_"+p.ID, stripe.EventTypePaymentIntentSucceeded, intentObject(e, p, "succeeded"), whsec)
	if _, err := e.svc.ReceiveWebhook(context.Background(), payload, header, whsec); err != nil {
		t.Fatal(err)
	}
	rows := e.outbox(t, payments.TaskStripeEvent)
	if err := e.handle(t, rows[len(rows)-1]); err != nil {
		t.Fatal(err)
	}
	return p, o
}

func TestRefundStripe(t *testing.T) {
	t.Parallel()
	e := setup(t)
	p, o := e.stripePaid(t, 1500)

	// Stripe answers succeeded at once: booked out of the refunds in flight straight away.
	rs, err := e.refund(o, 600, "item unavailable", "r-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0].Status != payments.RefundSucceeded || rs[0].ProviderRef == "" {
		t.Fatalf("refunds = %+v", rs)
	}
	sr, _ := e.fake.GetRefund(context.Background(), rs[0].ProviderRef)
	if sr.IntentID != p.ProviderRef || sr.Amount != 600 || sr.Metadata["refund_id"] != rs[0].ID ||
		sr.Metadata["tenant_id"] != fmt.Sprint(e.tenant.ID) {
		t.Errorf("stripe refund = %+v", sr)
	}
	if b := e.balance(t, ledger.Clearing("stripe")); b != -900 {
		t.Errorf("clearing:stripe = %d, want -900", b)
	}
	if b := e.balance(t, ledger.Refunds("stripe")); b != 0 {
		t.Errorf("refunds:stripe = %d, want 0", b)
	}

	t.Run("stripe failure writes nothing", func(t *testing.T) {
		e.fake.fail = errors.New("stripe is down")
		defer func() { e.fake.fail = nil }()
		before := e.snapshot(t)
		if _, err := e.refund(o, 100, "x", ""); !errors.Is(err, payments.ErrProvider) {
			t.Errorf("err = %v, want ErrProvider", err)
		}
		if after := e.snapshot(t); after != before {
			t.Errorf("failed refund wrote something:\n before %s\n after  %s", before, after)
		}
	})

	// The rest, in full; Stripe has the refund pending (see TestRefundStripeConfirmedOrFailedLater).
	e.fake.refundStatus = "pending"
	rest, err := e.refund(o, 900, "cancelled", "r-2")
	if err != nil {
		t.Fatal(err)
	}
	if rest[0].Status != payments.RefundPending {
		t.Fatalf("refund = %+v", rest[0])
	}
	if b := e.balance(t, ledger.Refunds("stripe")); b != 900 {
		t.Errorf("refunds:stripe = %d, want 900 in flight", b)
	}
	if b := e.balance(t, ledger.Escrow(o)); b != 0 {
		t.Errorf("escrow = %d, want 0", b)
	}
	if _, err := e.refund(o, 1, "more", ""); !errors.Is(err, payments.ErrRefundTooLarge) {
		t.Errorf("err = %v, want ErrRefundTooLarge", err)
	}
}

func TestRefundStripeConfirmedOrFailedLater(t *testing.T) {
	t.Parallel()
	e := setup(t)
	p, o := e.stripePaid(t, 1500)
	e.fake.refundStatus = "pending"
	deliver := func(refundID, status string) {
		t.Helper()
		e.fake.setRefund(refundID, status)
		sr, _ := e.fake.GetRefund(context.Background(), refundID)
		meta := map[string]any{}
		for k, v := range sr.Metadata {
			meta[k] = v
		}
		payload, header := event(t, "evt_"+refundID+"_"+status, stripe.EventTypeChargeRefundUpdated, map[string]any{
			"id": refundID, "object": "refund", "status": status, "payment_intent": p.ProviderRef, "metadata": meta,
		}, whsec)
		if _, err := e.svc.ReceiveWebhook(context.Background(), payload, header, whsec); err != nil {
			t.Fatal(err)
		}
		rows := e.outbox(t, payments.TaskStripeEvent)
		if err := e.handle(t, rows[len(rows)-1]); err != nil {
			t.Fatal(err)
		}
	}
	status := func(id string) payments.RefundStatus {
		var s payments.RefundStatus
		e.must(t, func(tx *gorm.DB) error { return tx.Raw(`SELECT status FROM refunds WHERE id = ?`, id).Scan(&s).Error })
		return s
	}

	ok, err := e.refund(o, 500, "partial", "")
	if err != nil {
		t.Fatal(err)
	}
	deliver(ok[0].ProviderRef, "succeeded")
	if s := status(ok[0].ID); s != payments.RefundSucceeded {
		t.Errorf("confirmed refund is %s", s)
	}
	if b := e.balance(t, ledger.Refunds("stripe")); b != 0 {
		t.Errorf("refunds:stripe = %d, want 0", b)
	}
	if b := e.balance(t, ledger.Clearing("stripe")); b != -1000 {
		t.Errorf("clearing:stripe = %d, want -1000", b)
	}
	before := e.books(t)
	deliver(ok[0].ProviderRef, "succeeded") // a redelivery under a new event id
	if after := e.books(t); after != before {
		t.Errorf("redelivery changed the books:\n before %s\n after  %s", before, after)
	}

	bad, err := e.refund(o, 700, "partial again", "")
	if err != nil {
		t.Fatal(err)
	}
	if r := e.refunded(t, p.ID); r != 1200 {
		t.Errorf("refunded = %d, want 1200 while pending", r)
	}
	deliver(bad[0].ProviderRef, "failed")
	if s := status(bad[0].ID); s != payments.RefundFailed {
		t.Errorf("failed refund is %s", s)
	}
	if r := e.refunded(t, p.ID); r != 500 {
		t.Errorf("refunded = %d, want 500 after the failure", r)
	}
	if b := e.balance(t, ledger.Escrow(o)); b != 1000 {
		t.Errorf("escrow = %d, want 1000 back", b)
	}
	rows := e.outbox(t, payments.TaskRefundFailed)
	if len(rows) != 1 {
		t.Fatalf("%d refund_failed rows, want 1", len(rows))
	}
	var data payments.RefundFailedData
	_ = json.Unmarshal([]byte(rows[0].Payload), &data)
	if data.RefundID != bad[0].ID || data.OrderID != o || data.Amount != 700 {
		t.Errorf("refund_failed = %+v", data)
	}
	before = e.books(t)
	deliver(bad[0].ProviderRef, "failed") // again: nothing more
	if after := e.books(t); after != before {
		t.Errorf("redelivery changed the books:\n before %s\n after  %s", before, after)
	}
	if n := len(e.outbox(t, payments.TaskRefundFailed)); n != 1 {
		t.Errorf("%d refund_failed rows after a redelivery, want 1", n)
	}
	// What failed can be refunded again.
	if _, err := e.refund(o, 1000, "retry", ""); err != nil {
		t.Errorf("refund the rest: %v", err)
	}
}
