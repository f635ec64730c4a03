package app_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/ledger"
	"github.com/paotui/paotui/internal/ledger/ledgertest"
	"github.com/paotui/paotui/internal/places"
	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/pricing"
)

// money is the state a refused request must leave alone.
type money struct {
	journals int64
	wallet   ledger.Money
}

func (e *errandEnv) tenant(t *testing.T) *tenancy.Tenant {
	tn, err := e.App.Registry.BySlug(context.Background(), "campus")
	if err != nil {
		t.Fatal(err)
	}
	return tn
}

func (e *errandEnv) money(t *testing.T) money {
	t.Helper()
	var m money
	tn := e.tenant(t)
	ledgertest.RequireClean(t, e.App.DB, tn)
	_ = e.App.DB.InTenant(context.Background(), tn, func(tx *gorm.DB) error {
		tx.Raw(`SELECT count(*) FROM ledger_journals`).Scan(&m.journals)
		m.wallet, _ = ledger.Balance(tx, ledger.Wallet(e.student.User.ID))
		return nil
	})
	return m
}

func (e *errandEnv) quote(t *testing.T, body map[string]any) string {
	t.Helper()
	r := e.Do(e.host, "POST", "/api/v1/orders/quote", e.student.AccessToken, body)
	var q struct{ Token string }
	r.JSON(t, &q)
	if r.Status != 200 || q.Token == "" {
		t.Fatalf("quote: %d %s", r.Status, r.Body)
	}
	return q.Token
}

func (e *errandEnv) createPaid(t *testing.T) orderView {
	t.Helper()
	body := e.quoteBody(0)
	body["quoteToken"] = e.quote(t, body)
	r := e.Do(e.host, "POST", "/api/v1/orders", e.student.AccessToken, body)
	var o orderView
	r.JSON(t, &o)
	if r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	if r := e.Do(e.host, "POST", "/api/v1/orders/"+o.ID+"/pay", e.student.AccessToken, map[string]string{"method": "wallet"}); r.Status != 200 {
		t.Fatalf("pay: %d %s", r.Status, r.Body)
	}
	return o
}

// Every refusal of the issue gets its own problem code and leaves the ledger as it was.
func TestOrderRefusalsHaveTheirOwnCodes(t *testing.T) {
	e := newErrandEnv(t)
	ctx := context.Background()
	tn := e.tenant(t)
	paid := e.createPaid(t)

	withToken := func(token string, change func(map[string]any)) map[string]any {
		b := e.quoteBody(100)
		if change != nil {
			change(b)
		}
		b["quoteToken"] = token
		return b
	}
	good := e.quote(t, e.quoteBody(100))
	tampered := []byte(good)
	tampered[10] ^= 1
	// An expired token, as the server would have issued it 20 minutes ago.
	signer, err := e.App.QuoteSigner(func() time.Time { return time.Now().Add(-20 * time.Minute) })
	if err != nil {
		t.Fatal(err)
	}
	q, err := e.App.Orders.Quote(ctx, tn, mustQuoteRequest(t, e.quoteBody(100)))
	if err != nil {
		t.Fatal(err)
	}
	expired, _, err := signer.Issue(tn.ID, pricing.Input{TaskType: "parcel_pickup",
		Pickup: pricing.Point{Lng: q.Pickup.Lng, Lat: q.Pickup.Lat}, Dropoff: pricing.Point{Lng: q.Dropoff.Lng, Lat: q.Dropoff.Lat},
		Size: "medium", Tip: 100}, q.Breakdown)
	if err != nil {
		t.Fatal(err)
	}
	outside := map[string]any{"lng": 114.37164, "lat": 30.53932, "label": "校外小区"}

	cases := []struct {
		name, method, path string
		body               any
		status             int
		code               string
	}{
		{"tampered token", "POST", "/api/v1/orders", withToken(string(tampered), nil), 422, ""},
		{"expired token", "POST", "/api/v1/orders", withToken(expired, nil), 422, "quote_expired"},
		{"token for other inputs", "POST", "/api/v1/orders", withToken(good, func(b map[string]any) { b["tip"] = 500 }), 422, "quote_mismatch"},
		{"other size", "POST", "/api/v1/orders", withToken(good, func(b map[string]any) { b["size"] = "large" }), 422, "quote_mismatch"},
		{"garbage token", "POST", "/api/v1/orders", withToken("not-a-token", nil), 422, "quote_malformed"},
		{"pickup out of zone", "POST", "/api/v1/orders/quote", func() any {
			b := e.quoteBody(0)
			b["pickup"] = outside
			return b
		}(), 422, "pickup_out_of_range"},
		{"dropoff out of zone", "POST", "/api/v1/orders/quote", func() any {
			b := e.quoteBody(0)
			b["dropoff"] = outside
			return b
		}(), 422, "dropoff_out_of_range"},
		{"form field missing", "POST", "/api/v1/orders/quote", func() any {
			b := e.quoteBody(0)
			b["form"] = map[string]any{"parcel_count": 2}
			return b
		}(), 422, "invalid_form"},
		{"unknown task type", "POST", "/api/v1/orders/quote", func() any {
			b := e.quoteBody(0)
			b["taskType"] = "teleport"
			return b
		}(), 422, "task_type_unavailable"},
		{"double payment", "POST", "/api/v1/orders/" + paid.ID + "/pay", map[string]string{"method": "wallet"}, 409, "order_illegal_transition"},
		{"refund larger than paid", "POST", "/api/v1/admin/orders/" + paid.ID + "/refund", map[string]any{"amount": paid.Total + 1, "reason": "too much"}, 422, "refund_too_large"},
		{"confirm before delivery", "POST", "/api/v1/orders/" + paid.ID + "/confirm", nil, 409, "order_illegal_transition"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := e.money(t)
			token := e.student.AccessToken
			if tc.code == "refund_too_large" {
				token = e.owner.AccessToken
			}
			r := e.Do(e.host, tc.method, tc.path, token, tc.body)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Body)
			}
			code := r.Problem(t).Code
			if tc.code != "" && code != tc.code || tc.code == "" && code != "quote_tampered" && code != "quote_malformed" {
				t.Fatalf("code %q, want %q: %s", code, tc.code, r.Body)
			}
			if after := e.money(t); after != before {
				t.Fatalf("money moved: %+v -> %+v", before, after)
			}
		})
	}

	// Closed hours and closed dates, with their own codes.
	setHours := func(week map[time.Weekday][]places.Window, closedToday bool) {
		t.Helper()
		err := e.App.DB.InTenant(ctx, tn, func(tx *gorm.DB) error {
			if err := places.PutHours(tx, week); err != nil {
				return err
			}
			if closedToday {
				return places.AddClosedDate(tx, time.Now().In(mustLoc(t)).Format(time.DateOnly), "运动会")
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().In(mustLoc(t))
	minute := now.Hour()*60 + now.Minute()
	closedNow := map[time.Weekday][]places.Window{}
	for d := time.Sunday; d <= time.Saturday; d++ {
		// a window that ends before now, or starts after it
		if minute > 60 {
			closedNow[d] = []places.Window{{Opens: 0, Closes: minute - 30}}
		} else {
			closedNow[d] = []places.Window{{Opens: minute + 30, Closes: 24 * 60}}
		}
	}
	setHours(closedNow, false)
	r := e.Do(e.host, "POST", "/api/v1/orders/quote", e.student.AccessToken, e.quoteBody(0))
	if r.Status != 422 || r.Problem(t).Code != "outside_service_hours" {
		t.Fatalf("outside hours: %d %s", r.Status, r.Body)
	}
	allDay := map[time.Weekday][]places.Window{}
	for d := time.Sunday; d <= time.Saturday; d++ {
		allDay[d] = []places.Window{{Opens: 0, Closes: 24 * 60}}
	}
	setHours(allDay, true)
	r = e.Do(e.host, "POST", "/api/v1/orders/quote", e.student.AccessToken, e.quoteBody(0))
	if r.Status != 422 || r.Problem(t).Code != "service_closed_date" {
		t.Fatalf("closed date: %d %s", r.Status, r.Body)
	}
}

func mustLoc(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
