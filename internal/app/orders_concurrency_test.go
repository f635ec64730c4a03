package app_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/ledger"
	"github.com/paotui/paotui/internal/ledger/ledgertest"
	"github.com/paotui/paotui/internal/orders"
	"github.com/paotui/paotui/internal/payments"
)

// expectedRefusal reports whether err is a domain answer a racing caller may legitimately
// get: the order moved on, the wallet is short, the refund is larger than what is left. Any
// other error (a deadlock, a serialization failure, a constraint violation) is a bug.
func expectedRefusal(err error) bool {
	for _, want := range []error{
		orders.ErrIllegalTransition, orders.ErrCancelNotFree, orders.ErrRefundTooLarge, orders.ErrNotPaid,
		orders.ErrConcurrentChange, orders.ErrCourierNotAllowed, orders.ErrPaymentExpired,
		orders.ErrAlreadyTaken, orders.ErrOrderCancelled, orders.ErrCourierAtCapacity,
		payments.ErrInsufficientFunds, payments.ErrAlreadyPaid, payments.ErrRefundTooLarge,
	} {
		if errors.Is(err, want) {
			return true
		}
	}
	return false
}

// The concurrency "done" test: many goroutines pay, cancel, refund, confirm and work
// the same orders at once (two couriers grabbing, picking up and delivering, staff cancelling
// and refunding random amounts, the sweeper running), with no retries. Afterwards every order
// is in one valid status reached by a gap-free chain of legal moves, its paid and refunded
// amounts agree with its journals and its escrow, no wallet is negative and the ledger check
// is clean.
func TestConcurrentOrderOperationsKeepOrdersAndLedgerSound(t *testing.T) {
	e := newErrandEnv(t)
	ctx := context.Background()
	tn := e.tenant(t)
	svc := e.App.Orders
	student, staff := e.student.User.ID, e.owner.User.ID
	couriers := []string{e.courier.User.ID, e.onlineCourier(t, "13700000002").User.ID}

	// A ¥10 tip makes each order about ¥15: the ¥100 wallet cannot pay for all eight unless
	// refunds come back in time, so some payments meet a short wallet.
	const nOrders, attempts = 8, 8
	placed := make([]orderView, nOrders)
	for i := range placed {
		placed[i] = e.placeOrder(t, 1000)
	}
	// The last order is already overdue: its payments expire it, racing the sweeper.
	e.exec(t, `UPDATE orders SET pay_by = now() - interval '1 second' WHERE id = ?`, placed[nOrders-1].ID)

	type action struct {
		name string
		do   func(o orderView, rng *rand.Rand, try int) error
	}
	var (
		pay = action{"pay", func(o orderView, _ *rand.Rand, _ int) error {
			_, err := svc.Pay(ctx, tn, student, o.ID, orders.PayRequest{Method: "wallet"}, "")
			return err
		}}
		cancel = action{"cancel", func(o orderView, _ *rand.Rand, _ int) error {
			_, err := svc.Cancel(ctx, tn, orders.ActorStudent, student, o.ID, "changed my mind")
			return err
		}}
		staffCancel = action{"staff-cancel", func(o orderView, _ *rand.Rand, _ int) error {
			_, err := svc.Cancel(ctx, tn, orders.ActorStaff, staff, o.ID, "shop closed")
			return err
		}}
		refund = action{"refund", func(o orderView, rng *rand.Rand, _ int) error {
			_, err := svc.Refund(ctx, tn, staff, o.ID, 1+rng.Int64N(o.Total), "goodwill", "")
			return err
		}}
		confirm = action{"confirm", func(o orderView, _ *rand.Rand, _ int) error {
			_, err := svc.Confirm(ctx, tn, orders.ActorStudent, student, o.ID)
			return err
		}}
		courier = func(c string) action {
			return action{"courier", func(o orderView, _ *rand.Rand, try int) error {
				var err error
				switch try % 3 {
				case 0:
					_, err = svc.Grab(ctx, tn, c, o.ID)
				case 1:
					_, err = svc.Pickup(ctx, tn, c, o.ID, parcelPickupCode)
				default:
					_, err = svc.Deliver(ctx, tn, c, o.ID, orders.DeliverRequest{Code: o.DeliveryCode})
				}
				return err
			}}
		}
		sweep = action{"sweep", func(orderView, *rand.Rand, int) error {
			_, _, err := svc.Sweep(ctx, tn)
			return err
		}}
		read = action{"detail", func(o orderView, _ *rand.Rand, _ int) error {
			_, err := svc.Detail(ctx, tn, o.ID)
			return err
		}}
	)
	// Twelve goroutines per order. Half the orders have a student and a staff member trying
	// to cancel; the other half more payers and refunders, so that some get far enough to
	// complete.
	roles := func(i int) []action {
		rs := []action{pay, pay, refund, refund, confirm, confirm, courier(couriers[0]), courier(couriers[1]), sweep, read}
		if i%2 == 0 {
			return append(rs, cancel, staffCancel)
		}
		return append(rs, pay, refund)
	}

	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	var (
		wg       sync.WaitGroup
		outcomes = map[string]*[2]atomic.Int64{} // action -> [done, refused]
	)
	for _, a := range []string{"pay", "cancel", "staff-cancel", "refund", "confirm", "courier", "sweep", "detail"} {
		outcomes[a] = new([2]atomic.Int64)
	}
	start := make(chan struct{})
	for i, o := range placed {
		for j, a := range roles(i) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(seed, uint64(i*100+j)))
				<-start
				for try := range attempts {
					time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond)
					err := a.do(o, rng, try)
					switch {
					case err == nil:
						outcomes[a.name][0].Add(1)
					case expectedRefusal(err):
						outcomes[a.name][1].Add(1)
					default:
						t.Errorf("order %d: %s: %v", i, a.name, err)
					}
				}
			}()
		}
	}
	began := time.Now()
	close(start)
	wg.Wait()
	var summary []string
	for name, n := range outcomes {
		summary = append(summary, fmt.Sprintf("%s %d/%d", name, n[0].Load(), n[0].Load()+n[1].Load()))
	}
	sort.Strings(summary)
	t.Logf("%d goroutines in %v; succeeded/attempted: %s", nOrders*12, time.Since(began).Round(time.Millisecond), strings.Join(summary, ", "))
	if outcomes["pay"][0].Load() == 0 || outcomes["refund"][0].Load() == 0 {
		t.Errorf("no payment or no refund succeeded: the test exercised nothing")
	}

	ledgertest.RequireClean(t, e.App.DB, tn)
	var final map[string]int
	err := e.App.DB.InTenant(ctx, tn, func(tx *gorm.DB) error {
		var err error
		final, err = checkOrders(t, tx, placed, student, couriers)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("final statuses: %v", final)
}

// checkOrders asserts the invariants of the concurrency test on each order and on the money
// around them, and returns how many orders ended in each status.
func checkOrders(t *testing.T, tx *gorm.DB, placed []orderView, student string, couriers []string) (map[string]int, error) {
	t.Helper()
	final := map[string]int{}
	var paidTotal, refundedTotal, settledTotal ledger.Money
	for i, o := range placed {
		var r struct {
			Status         string
			CourierID      *string
			Total          int64
			PaidAmount     int64
			RefundedAmount int64
		}
		if err := tx.Raw(`SELECT status, courier_id, total, paid_amount, refunded_amount FROM orders WHERE id = ?`, o.ID).
			Scan(&r).Error; err != nil {
			return nil, err
		}
		st := orders.Status(r.Status)
		final[r.Status]++
		if !st.Valid() {
			t.Errorf("order %d: unknown status %q", i, r.Status)
		}

		// One status, reached by a chain of legal moves without gaps.
		var events []struct {
			Event      string
			FromStatus *string
			ToStatus   string
			ActorKind  string
		}
		if err := tx.Raw(`SELECT event, from_status, to_status, actor_kind FROM order_events WHERE order_id = ? ORDER BY id`, o.ID).
			Scan(&events).Error; err != nil {
			return nil, err
		}
		if len(events) == 0 || events[0].Event != "create" || events[0].FromStatus != nil || events[0].ToStatus != string(orders.AwaitingPayment) {
			t.Errorf("order %d: the timeline does not start with create: %+v", i, events)
			continue
		}
		for k := 1; k < len(events); k++ {
			ev := events[k]
			if ev.FromStatus == nil || *ev.FromStatus != events[k-1].ToStatus {
				t.Errorf("order %d: event %d (%s) starts from %v, the previous event ended in %s", i, k, ev.Event, ev.FromStatus, events[k-1].ToStatus)
				continue
			}
			to, err := orders.Next(orders.Status(*ev.FromStatus), orders.Event(ev.Event), orders.Actor(ev.ActorKind))
			if err != nil || string(to) != ev.ToStatus {
				t.Errorf("order %d: event %d is not a legal move: %s by %s from %s to %s", i, k, ev.Event, ev.ActorKind, *ev.FromStatus, ev.ToStatus)
			}
		}
		if last := events[len(events)-1].ToStatus; last != r.Status {
			t.Errorf("order %d: status %s but the timeline ends in %s", i, r.Status, last)
		}

		// The order's amounts against its status.
		paid, refunded := ledger.Money(r.PaidAmount), ledger.Money(r.RefundedAmount)
		switch {
		case refunded > paid || paid != 0 && paid != ledger.Money(r.Total):
			t.Errorf("order %d: paid %d, refunded %d of a total %d", i, paid, refunded, r.Total)
		case (st == orders.AwaitingPayment || st == orders.Expired) && paid != 0:
			t.Errorf("order %d: %s but paid %d", i, st, paid)
		case (st == orders.Cancelled || st == orders.Refunded) && refunded != paid:
			t.Errorf("order %d: %s with %d of %d paid not refunded", i, st, paid-refunded, paid)
		case st == orders.Refunded && paid == 0:
			t.Errorf("order %d: refunded but never paid", i)
		case (st == orders.AwaitingCourier || st == orders.Accepted || st == orders.PickedUp || st == orders.Delivered || st == orders.Completed) && paid == 0:
			t.Errorf("order %d: %s but not paid", i, st)
		case st == orders.Completed && r.CourierID == nil:
			t.Errorf("order %d: completed without a courier", i)
		}

		// The amounts against the order's journals and its escrow.
		journals, err := ledger.JournalsByRef(tx, orders.Ref(o.ID))
		if err != nil {
			return nil, err
		}
		var inEscrow, outRefunded, settled ledger.Money
		nPayments, settlements := 0, 0
		for _, j := range journals {
			for _, en := range j.Entries {
				if en.Account != ledger.Escrow(o.ID) {
					continue
				}
				switch j.Kind {
				case ledger.Payment:
					inEscrow += en.Amount
				case ledger.Refund:
					outRefunded -= en.Amount
				case ledger.Settlement:
					settled -= en.Amount
				}
			}
			switch j.Kind {
			case ledger.Payment:
				nPayments++
			case ledger.Settlement:
				settlements++
			}
		}
		if nPayments > 1 || settlements > 1 || inEscrow != paid || outRefunded != refunded {
			t.Errorf("order %d: %d payment journals bringing %d (paid %d), refunds taking %d (refunded %d), %d settlements",
				i, nPayments, inEscrow, paid, outRefunded, refunded, settlements)
		}
		escrow, err := ledger.Balance(tx, ledger.Escrow(o.ID))
		if err != nil {
			return nil, err
		}
		want := paid - refunded
		if st == orders.Completed {
			want = 0
			if settled != paid-refunded {
				t.Errorf("order %d: completed with %d settled of %d held", i, settled, paid-refunded)
			}
		} else if settlements > 0 {
			t.Errorf("order %d: %s but settled", i, st)
		}
		if escrow != want {
			t.Errorf("order %d (%s): escrow holds %d, want %d (paid %d, refunded %d)", i, st, escrow, want, paid, refunded)
		}
		paidTotal += paid
		refundedTotal += refunded
		settledTotal += settled
	}

	// The student's wallet: ¥100, less what was paid, plus what came back; never negative.
	// What was settled went to the couriers and the tenant, to the 分.
	wallet, err := ledger.Balance(tx, ledger.Wallet(student))
	if err != nil {
		return nil, err
	}
	if wallet < 0 || wallet != 10000-paidTotal+refundedTotal {
		t.Errorf("wallet %d; want 10000 - paid %d + refunded %d", wallet, paidTotal, refundedTotal)
	}
	var earned ledger.Money
	for _, c := range append(couriers, "") {
		a := ledger.Revenue()
		if c != "" {
			a = ledger.Earnings(c)
		}
		b, err := ledger.Balance(tx, a)
		if err != nil {
			return nil, err
		}
		earned += b
	}
	if earned != settledTotal {
		t.Errorf("couriers and the tenant hold %d; %d was settled", earned, settledTotal)
	}
	var negative int64
	if err := tx.Raw(`SELECT count(*) FROM ledger_accounts WHERE kind = 'wallet' AND balance < 0`).Scan(&negative).Error; err != nil {
		return nil, err
	}
	if negative > 0 {
		t.Errorf("%d wallets are negative", negative)
	}
	return final, nil
}
