package payments_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/ledger"
	"github.com/paotui/paotui/internal/payments"
)

func TestPayFromWallet(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := e.user(t)
	o := e.order(t, u, 1500)
	e.fund(t, u, 2000)

	var first *payments.Payment
	e.must(t, func(tx *gorm.DB) error {
		var err error
		first, err = e.svc.PayFromWallet(tx, o, u, 1500, "key-1")
		return err
	})
	if first.Status != payments.StatusSucceeded || first.Provider != payments.ProviderWallet || first.OrderID != o ||
		first.Amount != 1500 || first.SucceededAt == nil {
		t.Fatalf("payment = %+v", first)
	}
	if got := e.balance(t, ledger.Wallet(u)); got != 500 {
		t.Errorf("wallet = %d, want 500", got)
	}
	if got := e.balance(t, ledger.Escrow(o)); got != 1500 {
		t.Errorf("escrow = %d, want 1500", got)
	}

	t.Run("replay returns the same payment and posts nothing", func(t *testing.T) {
		before := e.snapshot(t)
		var again *payments.Payment
		e.must(t, func(tx *gorm.DB) error {
			var err error
			again, err = e.svc.PayFromWallet(tx, o, u, 1500, "key-1")
			return err
		})
		if again.ID != first.ID {
			t.Errorf("replay gave payment %s, want %s", again.ID, first.ID)
		}
		if after := e.snapshot(t); after != before {
			t.Errorf("replay wrote something:\n before %s\n after  %s", before, after)
		}
	})

	refusals := []struct {
		name    string
		orderID string
		amount  ledger.Money
		key     string
		want    error
	}{
		{"same key, other amount", o, 1400, "key-1", payments.ErrIdempotencyMismatch},
		{"same key, other order", e.order(t, u, 1500), 1500, "key-1", payments.ErrIdempotencyMismatch},
		{"other key, paid order", o, 1500, "key-2", payments.ErrAlreadyPaid},
		{"someone else's order", e.order(t, e.user(t), 100), 100, "", payments.ErrNotFound},
		{"unknown order", "6f1c1f5e-0000-4000-8000-000000000000", 100, "", payments.ErrNotFound},
		{"malformed order id", "nope", 100, "", payments.ErrNotFound},
		{"zero amount", o, 0, "", payments.ErrInvalid},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			before := e.snapshot(t)
			e.must(t, func(tx *gorm.DB) error {
				_, err := e.svc.PayFromWallet(tx, tc.orderID, u, tc.amount, tc.key)
				if !errors.Is(err, tc.want) {
					t.Errorf("err = %v, want %v", err, tc.want)
				}
				return nil // the refusal left tx usable: commit it
			})
			if after := e.snapshot(t); after != before {
				t.Errorf("refusal wrote something:\n before %s\n after  %s", before, after)
			}
		})
	}

	var ps []payments.Payment
	e.must(t, func(tx *gorm.DB) error {
		var err error
		ps, err = e.svc.ForOrder(tx, o)
		return err
	})
	if len(ps) != 1 || ps[0].ID != first.ID {
		t.Errorf("ForOrder = %+v", ps)
	}
}

func TestPayFromWalletInsufficientFundsWritesNothing(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := e.user(t)
	o := e.order(t, u, 1500)
	e.fund(t, u, 1000)
	before := e.snapshot(t)
	e.must(t, func(tx *gorm.DB) error {
		_, err := e.svc.PayFromWallet(tx, o, u, 1500, "key-1")
		if !errors.Is(err, payments.ErrInsufficientFunds) {
			t.Fatalf("err = %v, want ErrInsufficientFunds", err)
		}
		var fe *ledger.FundsError
		if !errors.As(err, &fe) || fe.Account != ledger.Wallet(u) || fe.Balance != 1000 {
			t.Errorf("funds error = %#v", fe)
		}
		return nil // commit what is left: nothing
	})
	if after := e.snapshot(t); after != before {
		t.Errorf("refusal wrote something:\n before %s\n after  %s", before, after)
	}
	e.must(t, func(tx *gorm.DB) error {
		if _, err := e.svc.PayFromWallet(tx, o, u, 1500, "key-1"); !errors.Is(err, payments.ErrInsufficientFunds) {
			t.Fatalf("err = %v, want ErrInsufficientFunds", err)
		}
		// The transaction is still usable: the student may pay another way.
		_, err := e.svc.MarkOffline(tx, o, u, 1500, "user:staff", "paid cash at the desk")
		return err
	})
	var ps []payments.Payment
	e.must(t, func(tx *gorm.DB) error {
		var err error
		ps, err = e.svc.ForOrder(tx, o)
		return err
	})
	if len(ps) != 1 || ps[0].Provider != payments.ProviderOffline {
		t.Fatalf("payments = %+v, want the offline one only", ps)
	}
	if got := e.balance(t, ledger.Wallet(u)); got != 1000 {
		t.Errorf("wallet = %d, want 1000 untouched", got)
	}
	if n := e.count(t, `SELECT count(*) FROM payments WHERE idempotency_key = 'key-1'`); n != 0 {
		t.Errorf("%d payments left by the refused attempt", n)
	}
}

func TestMarkOffline(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := e.user(t)
	o := e.order(t, u, 1500)
	e.must(t, func(tx *gorm.DB) error {
		_, err := e.svc.MarkOffline(tx, o, u, 1500, "user:staff", "  ")
		if !errors.Is(err, payments.ErrReasonRequired) {
			t.Errorf("no reason: err = %v, want ErrReasonRequired", err)
		}
		p, err := e.svc.MarkOffline(tx, o, u, 1500, "user:staff", "cash at the desk")
		if err != nil {
			return err
		}
		if p.Provider != payments.ProviderOffline || p.CreatedBy != "user:staff" || p.Reason != "cash at the desk" {
			t.Errorf("payment = %+v", p)
		}
		if _, err := e.svc.MarkOffline(tx, o, u, 1500, "user:staff", "twice"); !errors.Is(err, payments.ErrAlreadyPaid) {
			t.Errorf("second mark: err = %v, want ErrAlreadyPaid", err)
		}
		return nil
	})
	if got := e.balance(t, ledger.Clearing("offline")); got != -1500 {
		t.Errorf("clearing:offline = %d, want -1500", got)
	}
	if got := e.balance(t, ledger.Escrow(o)); got != 1500 {
		t.Errorf("escrow = %d, want 1500", got)
	}
}

func TestTopupByStaff(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := e.user(t)
	e.must(t, func(tx *gorm.DB) error {
		if _, err := e.svc.TopupByStaff(tx, u, 500, "user:staff", ""); !errors.Is(err, payments.ErrReasonRequired) {
			t.Errorf("no reason: err = %v, want ErrReasonRequired", err)
		}
		if _, err := e.svc.TopupByStaff(tx, "6f1c1f5e-0000-4000-8000-000000000000", 500, "user:staff", "x"); !errors.Is(err, payments.ErrNotFound) {
			t.Errorf("unknown user: err = %v, want ErrNotFound", err)
		}
		p, err := e.svc.TopupByStaff(tx, u, 500, "user:staff", "parcel lost, compensation")
		if err != nil {
			return err
		}
		if p.Purpose != payments.PurposeTopup || p.Provider != payments.ProviderStaff || p.OrderID != "" {
			t.Errorf("payment = %+v", p)
		}
		return nil
	})
	if got := e.balance(t, ledger.Subsidy()); got != -500 {
		t.Errorf("subsidy = %d, want -500", got)
	}
	var bal ledger.Money
	var lines []ledger.Posting
	e.must(t, func(tx *gorm.DB) error {
		var err error
		bal, lines, err = e.svc.Wallet(tx, u, 0, 0)
		return err
	})
	if bal != 500 || len(lines) != 1 || lines[0].Amount != 500 || lines[0].Kind != ledger.Adjustment ||
		lines[0].Memo != "parcel lost, compensation" {
		t.Errorf("wallet = %d, %+v", bal, lines)
	}
}

// Twenty requests pay one order from the wallet at once, each with its own key: exactly one
// pays, the others learn the order is paid, and the wallet is charged once.
func TestPayFromWalletConcurrently(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := e.user(t)
	o := e.order(t, u, 1500)
	e.fund(t, u, 20*1500)
	const n = 20 // the pool's size: every request holds its connection before any pays
	errs := make([]error, n)
	var wg, ready sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		ready.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = e.db.InTenant(context.Background(), e.tenant, func(tx *gorm.DB) error {
				err := tx.Exec(`SELECT 1`).Error
				ready.Done()
				if err != nil {
					return err
				}
				<-start
				_, err = e.svc.PayFromWallet(tx, o, u, 1500, fmt.Sprintf("key-%d", i))
				return err
			})
		}()
	}
	ready.Wait()
	close(start)
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, payments.ErrAlreadyPaid):
		default:
			t.Errorf("request %d: %v", i, err)
		}
	}
	if ok != 1 {
		t.Errorf("%d payments succeeded, want 1", ok)
	}
	if got := e.balance(t, ledger.Wallet(u)); got != 19*1500 {
		t.Errorf("wallet = %d, want %d", got, 19*1500)
	}
	if got := e.balance(t, ledger.Escrow(o)); got != 1500 {
		t.Errorf("escrow = %d, want 1500", got)
	}
	if n := e.count(t, `SELECT count(*) FROM payments WHERE order_id = ?`, o); n != 1 {
		t.Errorf("%d payment rows, want 1", n)
	}
}
