package app_test

import (
	"net/http"
	"testing"
	"time"
)

// The admin dashboard counts today's orders, completions and GMV in the team's time zone, open
// orders and couriers, with a trend that ends today; staff without orders:read are refused.
func TestAdminDashboardFigures(t *testing.T) {
	e := newErrandEnv(t)
	type dashboard struct {
		Zone  string
		Today struct {
			Date                   string
			Orders, Completed, GMV int64
		}
		OpenOrders int64 `json:"openOrders"`
		Couriers   struct{ Approved, Online int64 }
		Trend      []struct {
			Date                   string
			Orders, Completed, GMV int64
		}
	}
	get := func() dashboard {
		t.Helper()
		r := e.Do(e.host, "GET", "/api/v1/admin/dashboard?days=7", e.owner.AccessToken, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("get-admin-dashboard: %d %s", r.Status, r.Body)
		}
		var d dashboard
		r.JSON(t, &d)
		return d
	}
	before := get()
	loc, _ := time.LoadLocation(before.Zone)
	if today := time.Now().In(loc).Format(time.DateOnly); before.Today.Date != today || len(before.Trend) != 7 || before.Trend[6].Date != today {
		t.Fatalf("days: today %s, trend %+v", before.Today.Date, before.Trend)
	}
	if before.Couriers.Approved != 2 || before.Couriers.Online != 1 {
		t.Fatalf("couriers: %+v", before.Couriers)
	}

	done := e.placeOrder(t, 0)
	e.deliver(t, done)
	if r := e.Do(e.host, "POST", "/api/v1/orders/"+done.ID+"/confirm", e.student.AccessToken, nil); r.Status != http.StatusOK {
		t.Fatalf("confirm: %d %s", r.Status, r.Body)
	}
	open := e.placeOrder(t, 0)
	if r := e.Do(e.host, "POST", "/api/v1/orders/"+open.ID+"/pay", e.student.AccessToken, map[string]string{"method": "wallet"}); r.Status != http.StatusOK {
		t.Fatalf("pay: %d %s", r.Status, r.Body)
	}
	e.placeOrder(t, 0) // unpaid: counts as an order until it expires, not as open

	after := get()
	if after.Today.Orders-before.Today.Orders != 3 || after.Today.Completed-before.Today.Completed != 1 ||
		after.Today.GMV-before.Today.GMV != done.Total || after.OpenOrders-before.OpenOrders != 1 {
		t.Fatalf("before %+v, after %+v (completed order total %d)", before.Today, after.Today, done.Total)
	}
	if after.Trend[6] != after.Today {
		t.Fatalf("today's trend entry %+v differs from today %+v", after.Trend[6], after.Today)
	}
	if r := e.Do(e.host, "GET", "/api/v1/admin/dashboard?days=91", e.owner.AccessToken, nil); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("days=91: %d %s", r.Status, r.Body)
	}
	if r := e.Do(e.host, "GET", "/api/v1/admin/dashboard", e.student.AccessToken, nil); r.Status != http.StatusForbidden {
		t.Fatalf("a student's dashboard: %d %s", r.Status, r.Body)
	}
}
