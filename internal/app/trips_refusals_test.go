package app_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/paotui/paotui/internal/app/apptest"
	"github.com/paotui/paotui/internal/ledger/ledgertest"
	"github.com/paotui/paotui/internal/orders"
)

// tripRefusal is one refused courier request and the state it must leave alone.
type tripRefusal struct {
	name   string
	before func(t *testing.T) // state the request needs, set up over HTTP
	token  string
	path   string // POSTed
	body   any
	status int
	code   string
	// order, when set, must still be in orderStatus afterwards (as its student sees it).
	order, orderStatus string
	after              func(t *testing.T, r *apptest.Response)
}

// runRefusals sends each request in turn, checking its status, its problem code and that
// the order it concerns did not move.
func (e *errandEnv) runRefusals(t *testing.T, cases []tripRefusal) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.before != nil {
				tc.before(t)
			}
			r := e.Do(e.host, "POST", tc.path, tc.token, tc.body)
			if r.Status != tc.status {
				t.Fatalf("%d %s; want %d %s", r.Status, r.Body, tc.status, tc.code)
			}
			if p := r.Problem(t); p.Code != tc.code {
				t.Fatalf("problem %q (%s); want %q", p.Code, r.Body, tc.code)
			}
			if tc.order != "" {
				if status, _ := e.studentView(t, tc.order); status != tc.orderStatus {
					t.Fatalf("order is %s after the refusal; want %s", status, tc.orderStatus)
				}
			}
			if tc.after != nil {
				tc.after(t, r)
			}
		})
	}
}

// Each bad courier request of the issue is refused with its own problem code and changes
// nothing: impossible or too frequent positions, grabbing an order that is cancelled, taken,
// over the courier's limit or (in dispatch mode) not grabbable at all, going offline, a wrong
// pickup code, wrong delivery codes up to the lock, and answering another courier's offer.
func TestCourierRefusalsHaveTheirOwnCodes(t *testing.T) {
	t.Parallel()
	e := newErrandEnv(t)
	a := e.courier // online
	b := e.Login("campus", "13700000002")
	settingsPath := "/api/v1/admin/settings/business"
	putSettings := func(t *testing.T, change map[string]any) {
		t.Helper()
		r := e.Do(e.host, "GET", settingsPath, e.owner.AccessToken, nil)
		var s map[string]any
		r.JSON(t, &s)
		for k, v := range change {
			s[k] = v
		}
		if r := e.Do(e.host, "PUT", settingsPath, e.owner.AccessToken, s); r.Status != http.StatusOK {
			t.Fatalf("update-business-settings %v: %d %s", change, r.Status, r.Body)
		}
	}
	at := map[string]any{"lng": 114.365, "lat": 30.5307, "accuracy": 10}
	fix := func(change map[string]any) map[string]any {
		out := map[string]any{}
		for k, v := range at {
			out[k] = v
		}
		for k, v := range change {
			out[k] = v
		}
		return out
	}
	// One courier at a time: a carries taken, the others wait in the hall or were cancelled.
	putSettings(t, map[string]any{"maxActiveOrders": 1})
	taken := e.createPaid(t)
	if r := e.Do(e.host, "POST", "/api/v1/orders/"+taken.ID+"/grab", a.AccessToken, `{}`); r.Status != http.StatusOK {
		t.Fatalf("grab: %d %s", r.Status, r.Body)
	}
	open := e.createPaid(t)
	cancelled := e.createPaid(t)
	r := e.Do(e.host, "POST", "/api/v1/orders/"+cancelled.ID+"/cancel", e.student.AccessToken, map[string]string{"reason": "不需要了"})
	var gone orderView
	r.JSON(t, &gone)
	if r.Status != http.StatusOK || (gone.Status != "cancelled" && gone.Status != "refunded") {
		t.Fatalf("cancel: %d %s", r.Status, r.Body)
	}
	wrongCode := fmt.Sprintf("%06d", (mustAtoi(t, taken.DeliveryCode)+1)%1_000_000)
	deliverWrong := func(try int) tripRefusal {
		return tripRefusal{name: "wrong delivery code " + strconv.Itoa(try), token: a.AccessToken,
			path: "/api/v1/orders/" + taken.ID + "/deliver", body: map[string]string{"code": wrongCode},
			status: http.StatusUnprocessableEntity, code: "delivery_code_wrong", order: taken.ID, orderStatus: "picked_up"}
	}
	ping := "/api/v1/courier/location"
	cases := []tripRefusal{
		{name: "latitude beyond the pole", token: a.AccessToken, path: ping, body: fix(map[string]any{"lat": 91}),
			status: http.StatusUnprocessableEntity, code: "location_invalid"},
		{name: "longitude beyond 180", token: a.AccessToken, path: ping, body: fix(map[string]any{"lng": 200}),
			status: http.StatusUnprocessableEntity, code: "location_invalid"},
		{name: "null island", token: a.AccessToken, path: ping, body: fix(map[string]any{"lng": 0, "lat": 0}),
			status: http.StatusUnprocessableEntity, code: "location_invalid"},
		{name: "negative accuracy", token: a.AccessToken, path: ping, body: fix(map[string]any{"accuracy": -1}),
			status: http.StatusUnprocessableEntity, code: "location_invalid"},
		{name: "accuracy of a whole town", token: a.AccessToken, path: ping, body: fix(map[string]any{"accuracy": 6000}),
			status: http.StatusUnprocessableEntity, code: "location_invalid"},
		{name: "a good fix too soon after the last", token: a.AccessToken, path: ping, body: fix(map[string]any{"lat": 30.53071}),
			before: func(t *testing.T) {
				if r := e.Do(e.host, "POST", ping, a.AccessToken, at); r.Status != http.StatusNoContent {
					t.Fatalf("first ping: %d %s", r.Status, r.Body)
				}
			},
			status: http.StatusTooManyRequests, code: "location_too_frequent",
			after: func(t *testing.T, r *apptest.Response) {
				if s := r.Header.Get("Retry-After"); s != "1" && s != "2" {
					t.Fatalf("Retry-After %q; want 1 or 2 (seconds)", s)
				}
				// Only the accepted fix counts: the hall measures from it.
				r = e.Do(e.host, "GET", "/api/v1/courier/hall", a.AccessToken, nil)
				var hall struct{ Position *struct{ Lng, Lat float64 } }
				r.JSON(t, &hall)
				if r.Status != http.StatusOK || hall.Position == nil || hall.Position.Lng != at["lng"] || hall.Position.Lat != at["lat"] {
					t.Fatalf("list-task-hall after refused fixes: %d %s; want the position %v", r.Status, r.Body, at)
				}
			}},
		{name: "ping while offline", token: b.AccessToken, path: ping, body: at,
			status: http.StatusConflict, code: "courier_offline"},
		{name: "grab while offline", token: b.AccessToken, path: "/api/v1/orders/" + open.ID + "/grab", body: `{}`,
			status: http.StatusConflict, code: "courier_offline", order: open.ID, orderStatus: "awaiting_courier"},
		{name: "second grabber", token: b.AccessToken, path: "/api/v1/orders/" + taken.ID + "/grab", body: `{}`,
			before: func(t *testing.T) {
				if r := e.Do(e.host, "POST", "/api/v1/courier/online", b.AccessToken, nil); r.Status != http.StatusOK {
					t.Fatalf("go-online: %d %s", r.Status, r.Body)
				}
			},
			status: http.StatusConflict, code: "order_already_taken", order: taken.ID, orderStatus: "accepted"},
		{name: "grab a cancelled order", token: b.AccessToken, path: "/api/v1/orders/" + cancelled.ID + "/grab", body: `{}`,
			status: http.StatusConflict, code: "order_cancelled", order: cancelled.ID, orderStatus: gone.Status},
		{name: "grab over the concurrent-orders limit", token: a.AccessToken, path: "/api/v1/orders/" + open.ID + "/grab", body: `{}`,
			status: http.StatusConflict, code: "courier_at_capacity", order: open.ID, orderStatus: "awaiting_courier"},
		{name: "wrong pickup code", token: a.AccessToken, path: "/api/v1/orders/" + taken.ID + "/pickup", body: map[string]string{"code": "9-9-9999"},
			status: http.StatusUnprocessableEntity, code: "pickup_code_wrong", order: taken.ID, orderStatus: "accepted",
			after: func(t *testing.T, _ *apptest.Response) {
				r := e.Do(e.host, "POST", "/api/v1/orders/"+taken.ID+"/pickup", a.AccessToken, map[string]string{"code": parcelPickupCode})
				if r.Status != http.StatusOK {
					t.Fatalf("pickup with the right code: %d %s", r.Status, r.Body)
				}
			}},
	}
	for try := 1; try <= orders.MaxDeliveryAttempts; try++ {
		cases = append(cases, deliverWrong(try))
	}
	cases = append(cases, tripRefusal{name: "right delivery code after five wrong ones", token: a.AccessToken,
		path: "/api/v1/orders/" + taken.ID + "/deliver", body: map[string]string{"code": taken.DeliveryCode},
		status: http.StatusLocked, code: "delivery_code_locked", order: taken.ID, orderStatus: "picked_up",
		after: func(t *testing.T, _ *apptest.Response) {
			// The lock flagged the order for staff, once.
			_, timeline := e.studentView(t, taken.ID)
			requireLastEvent(t, timeline, "flag_exception", "picked_up", "picked_up", "system")
			if n := len(timeline); timeline[n-2].Event == "flag_exception" {
				t.Fatalf("flagged twice: %+v", timeline)
			}
		}})
	e.runRefusals(t, cases)

	// Dispatch mode: the hall is closed and offers are personal. The order still waiting goes
	// to one of the two couriers.
	putSettings(t, map[string]any{"dispatchMode": "dispatch", "maxActiveOrders": 3})
	if r := e.Do(e.host, "POST", ping, b.AccessToken, fix(map[string]any{"lat": 30.5312})); r.Status != http.StatusNoContent {
		t.Fatalf("ping of the second courier: %d %s", r.Status, r.Body)
	}
	r = e.Do(e.host, "POST", "/api/v1/admin/dispatch/run", e.owner.AccessToken, nil)
	var run struct {
		Offers []struct{ OfferID, OrderID, CourierID string }
	}
	r.JSON(t, &run)
	if r.Status != http.StatusOK || len(run.Offers) != 1 || run.Offers[0].OrderID != open.ID {
		t.Fatalf("run-dispatch: %d %s", r.Status, r.Body)
	}
	offer := "/api/v1/courier/offers/" + run.Offers[0].OfferID
	mine, other := a, b
	if run.Offers[0].CourierID == b.User.ID {
		mine, other = b, a
	}
	e.runRefusals(t, []tripRefusal{
		{name: "grab in dispatch mode", token: b.AccessToken, path: "/api/v1/orders/" + open.ID + "/grab", body: `{}`,
			status: http.StatusConflict, code: "grab_closed", order: open.ID, orderStatus: "awaiting_courier"},
		{name: "accept another courier's offer", token: other.AccessToken, path: offer + "/accept",
			status: http.StatusForbidden, code: "offer_not_yours", order: open.ID, orderStatus: "awaiting_courier"},
		{name: "decline another courier's offer", token: other.AccessToken, path: offer + "/decline",
			status: http.StatusForbidden, code: "offer_not_yours", order: open.ID, orderStatus: "awaiting_courier"},
	})

	// The offer was left open for its courier, who can still take it.
	r = e.Do(e.host, "POST", offer+"/accept", mine.AccessToken, nil)
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"status":"accepted"`) {
		t.Fatalf("accept-offer by its courier: %d %s", r.Status, r.Body)
	}
	if status, _ := e.studentView(t, open.ID); status != "accepted" {
		t.Fatalf("offered order is %s after its courier accepted", status)
	}
	ledgertest.RequireClean(t, e.App.DB, e.tenant(t))
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return n
}
