package app_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/ledger"
	"github.com/paotui/paotui/internal/ledger/ledgertest"
)

// The helpers below are shared by the order job and concurrency tests (e.tenant is in
// orders_refusals_test.go).

// exec runs a statement in the campus tenant's schema (test set-up: moving deadlines, settings).
func (e *errandEnv) exec(t *testing.T, sql string, args ...any) {
	t.Helper()
	err := e.App.DB.InTenant(context.Background(), e.tenant(t), func(tx *gorm.DB) error {
		return tx.Exec(sql, args...).Error
	})
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// setOrderSetting changes one field of the tenant's "orders" settings document, e.g.
// paymentTimeout to "1s" (durations are stored as Go duration strings).
func (e *errandEnv) setOrderSetting(t *testing.T, field, value string) {
	t.Helper()
	e.exec(t, `UPDATE settings SET value = jsonb_set(value, ?::text[], to_jsonb(?::text)) WHERE key = 'orders'`,
		"{"+field+"}", value)
}

// placeOrder quotes and creates an order for the student over HTTP.
func (e *errandEnv) placeOrder(t *testing.T, tip int) orderView {
	t.Helper()
	r := e.Do(e.host, "POST", "/api/v1/orders/quote", e.student.AccessToken, e.quoteBody(tip))
	var q struct{ Token string }
	r.JSON(t, &q)
	if r.Status != http.StatusOK {
		t.Fatalf("quote: %d %s", r.Status, r.Body)
	}
	body := e.quoteBody(tip)
	body["quoteToken"] = q.Token
	r = e.Do(e.host, "POST", "/api/v1/orders", e.student.AccessToken, body)
	var o orderView
	r.JSON(t, &o)
	if r.Status != http.StatusCreated || o.Status != "awaiting_payment" {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	return o
}

// deliver pays an order from the wallet and has the courier take it to delivered, over HTTP.
func (e *errandEnv) deliver(t *testing.T, o orderView) {
	t.Helper()
	r := e.Do(e.host, "POST", "/api/v1/orders/"+o.ID+"/pay", e.student.AccessToken, map[string]string{"method": "wallet"})
	if r.Status != http.StatusOK {
		t.Fatalf("pay: %d %s", r.Status, r.Body)
	}
	for _, step := range []struct{ path, body string }{{"grab", `{}`}, {"pickup", `{"code":"` + parcelPickupCode + `"}`}, {"deliver", `{"code":"` + o.DeliveryCode + `"}`}} {
		if r := e.Do(e.host, "POST", "/api/v1/orders/"+o.ID+"/"+step.path, e.courier.AccessToken, step.body); r.Status != http.StatusOK {
			t.Fatalf("%s: %d %s", step.path, r.Status, r.Body)
		}
	}
}

type timelineEvent struct {
	Event      string  `json:"event"`
	FromStatus *string `json:"fromStatus"`
	ToStatus   string  `json:"toStatus"`
	ActorKind  string  `json:"actorKind"`
}

// studentView is get-order as the student sees it.
func (e *errandEnv) studentView(t *testing.T, id string) (status string, timeline []timelineEvent) {
	t.Helper()
	r := e.Do(e.host, "GET", "/api/v1/orders/"+id, e.student.AccessToken, nil)
	var v struct {
		Status   string          `json:"status"`
		Timeline []timelineEvent `json:"timeline"`
	}
	r.JSON(t, &v)
	if r.Status != http.StatusOK {
		t.Fatalf("get-order: %d %s", r.Status, r.Body)
	}
	return v.Status, v.Timeline
}

// requireLastEvent checks that the order's timeline ends with event from → to by actor.
func requireLastEvent(t *testing.T, timeline []timelineEvent, event, from, to, actor string) {
	t.Helper()
	if len(timeline) == 0 {
		t.Fatal("empty timeline")
	}
	last := timeline[len(timeline)-1]
	if last.Event != event || last.FromStatus == nil || *last.FromStatus != from || last.ToStatus != to || last.ActorKind != actor {
		t.Fatalf("last event %+v (from %v); want %s %s → %s by %s", last, last.FromStatus, event, from, to, actor)
	}
}

func (e *errandEnv) balances(t *testing.T, accounts ...ledger.AccountRef) []ledger.Money {
	t.Helper()
	out := make([]ledger.Money, len(accounts))
	err := e.App.DB.InTenant(context.Background(), e.tenant(t), func(tx *gorm.DB) error {
		for i, a := range accounts {
			b, err := ledger.Balance(tx, a)
			if err != nil {
				return err
			}
			out[i] = b
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// An unpaid order expires once its deadline passes, through the sweeper, whether the deadline
// moved (a delayed task that never ran) or the tenant's timeout is short; orders still within
// their time are left alone, and sweeping again changes nothing.
func TestSweepExpiresUnpaidOrders(t *testing.T) {
	cases := []struct {
		name   string
		before func(e *errandEnv, t *testing.T)            // before the orders are placed
		lapse  func(e *errandEnv, t *testing.T, id string) // makes the order overdue
	}{
		{
			name: "deadline in the past",
			lapse: func(e *errandEnv, t *testing.T, id string) {
				e.exec(t, `UPDATE orders SET pay_by = now() - interval '1 second' WHERE id = ?`, id)
			},
		},
		{
			name:   "tenant payment timeout of one second",
			before: func(e *errandEnv, t *testing.T) { e.setOrderSetting(t, "paymentTimeout", "1s") },
			lapse:  func(*errandEnv, *testing.T, string) { time.Sleep(1100 * time.Millisecond) },
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newErrandEnv(t)
			ctx := context.Background()
			tn := e.tenant(t)
			if tc.before != nil {
				tc.before(e, t)
			}
			due := e.placeOrder(t, 0)
			tc.lapse(e, t, due.ID)
			e.setOrderSetting(t, "paymentTimeout", "15m0s")
			fresh := e.placeOrder(t, 0)

			expired, confirmed, err := e.App.Orders.Sweep(ctx, tn)
			if err != nil || expired != 1 || confirmed != 0 {
				t.Fatalf("sweep: expired %d, confirmed %d, %v; want 1, 0", expired, confirmed, err)
			}
			status, timeline := e.studentView(t, due.ID)
			if status != "expired" {
				t.Fatalf("overdue order is %s", status)
			}
			requireLastEvent(t, timeline, "expire", "awaiting_payment", "expired", "system")
			if status, _ := e.studentView(t, fresh.ID); status != "awaiting_payment" {
				t.Fatalf("order within its deadline is %s", status)
			}
			if expired, _, err := e.App.Orders.Sweep(ctx, tn); err != nil || expired != 0 {
				t.Fatalf("second sweep expired %d (%v)", expired, err)
			}
			r := e.Do(e.host, "POST", "/api/v1/orders/"+due.ID+"/pay", e.student.AccessToken, map[string]string{"method": "wallet"})
			if r.Status != http.StatusConflict || r.Problem(t).Code != "order_illegal_transition" {
				t.Fatalf("paying an expired order: %d %s", r.Status, r.Body)
			}
			ledgertest.RequireClean(t, e.App.DB, tn)
		})
	}
}

// Paying after the deadline, before the expire task or the sweeper got to the order, expires
// it instead of reviving it, and takes no money.
func TestPayAfterDeadlineExpires(t *testing.T) {
	t.Parallel()
	e := newErrandEnv(t)
	o := e.placeOrder(t, 0)
	e.exec(t, `UPDATE orders SET pay_by = now() - interval '1 second' WHERE id = ?`, o.ID)
	r := e.Do(e.host, "POST", "/api/v1/orders/"+o.ID+"/pay", e.student.AccessToken, map[string]string{"method": "wallet"})
	if r.Status != http.StatusConflict || r.Problem(t).Code != "order_payment_expired" {
		t.Fatalf("late payment: %d %s", r.Status, r.Body)
	}
	status, timeline := e.studentView(t, o.ID)
	if status != "expired" {
		t.Fatalf("order is %s after a late payment", status)
	}
	requireLastEvent(t, timeline, "expire", "awaiting_payment", "expired", "system")
	if b := e.balances(t, ledger.Wallet(e.student.User.ID), ledger.Escrow(o.ID)); b[0] != 10000 || b[1] != 0 {
		t.Fatalf("wallet %d, escrow %d after a refused payment; want 10000, 0", b[0], b[1])
	}
	ledgertest.RequireClean(t, e.App.DB, e.tenant(t))
}

// A delivered order the student does not confirm completes itself through the sweeper once
// the tenant's auto-confirm delay has passed, and is settled: the escrow is emptied into the
// courier's earnings and the tenant's revenue.
func TestSweepAutoConfirmsDeliveredOrders(t *testing.T) {
	cases := []struct {
		name  string
		lapse func(e *errandEnv, t *testing.T, id string)
	}{
		{
			name: "delivered a day ago",
			lapse: func(e *errandEnv, t *testing.T, id string) {
				e.exec(t, `UPDATE orders SET delivered_at = now() - interval '24 hours 1 second' WHERE id = ?`, id)
			},
		},
		{
			name: "tenant auto-confirm delay of one second",
			lapse: func(e *errandEnv, t *testing.T, _ string) {
				e.setOrderSetting(t, "autoConfirmAfter", "1s")
				time.Sleep(1100 * time.Millisecond)
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newErrandEnv(t)
			ctx := context.Background()
			tn := e.tenant(t)
			o := e.placeOrder(t, 100)
			e.deliver(t, o)
			if _, confirmed, err := e.App.Orders.Sweep(ctx, tn); err != nil || confirmed != 0 {
				t.Fatalf("sweep right after delivery confirmed %d (%v)", confirmed, err)
			}
			tc.lapse(e, t, o.ID)
			expired, confirmed, err := e.App.Orders.Sweep(ctx, tn)
			if err != nil || expired != 0 || confirmed != 1 {
				t.Fatalf("sweep: expired %d, confirmed %d, %v; want 0, 1", expired, confirmed, err)
			}
			status, timeline := e.studentView(t, o.ID)
			if status != "completed" {
				t.Fatalf("order is %s", status)
			}
			requireLastEvent(t, timeline, "confirm", "delivered", "completed", "system")
			b := e.balances(t, ledger.Escrow(o.ID), ledger.Earnings(e.courier.User.ID), ledger.Revenue())
			if b[0] != 0 || b[1] <= 100 || int64(b[1]+b[2]) != o.Total {
				t.Fatalf("escrow %d, earnings %d, revenue %d; want 0, > tip, summing to %d", b[0], b[1], b[2], o.Total)
			}
			if _, confirmed, err := e.App.Orders.Sweep(ctx, tn); err != nil || confirmed != 0 {
				t.Fatalf("second sweep confirmed %d (%v)", confirmed, err)
			}
			ledgertest.RequireClean(t, e.App.DB, tn)
		})
	}
}

// The delayed tasks alone do the work, through the real outbox → relay → asynq → worker path:
// with the tenant's payment timeout at one second an unpaid order expires, and with the
// auto-confirm delay at one second a delivered order completes, long before the one-minute
// sweeper first runs.
func TestOrderTasksThroughTheWorker(t *testing.T) {
	t.Parallel()
	e := newErrandEnv(t)
	e.setOrderSetting(t, "paymentTimeout", "1s")
	e.setOrderSetting(t, "autoConfirmAfter", "1s")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.App.RunWorker(ctx) }()
	defer func() { cancel(); <-done }()

	unpaid := e.placeOrder(t, 0)
	e.setOrderSetting(t, "paymentTimeout", "15m0s") // so that the next order can be paid
	delivered := e.placeOrder(t, 0)
	e.deliver(t, delivered)

	want := map[string]string{unpaid.ID: "expired", delivered.ID: "completed"}
	deadline := time.Now().Add(15 * time.Second)
	for len(want) > 0 {
		for id, status := range want {
			if got, _ := e.studentView(t, id); got == status {
				delete(want, id)
			}
		}
		if len(want) > 0 && time.Now().After(deadline) {
			for id, status := range want {
				got, timeline := e.studentView(t, id)
				t.Errorf("order %s is %s, want %s, 15 s after its deadline (timeline %+v)", id, got, status, timeline)
			}
			t.FailNow()
		}
		time.Sleep(200 * time.Millisecond)
	}
	_, timeline := e.studentView(t, unpaid.ID)
	requireLastEvent(t, timeline, "expire", "awaiting_payment", "expired", "system")
	_, timeline = e.studentView(t, delivered.ID)
	requireLastEvent(t, timeline, "confirm", "delivered", "completed", "system")
	ledgertest.RequireClean(t, e.App.DB, e.tenant(t))
}
