package dispatch_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/app/apptest"
	"github.com/paotui/paotui/internal/dispatch"
	"github.com/paotui/paotui/internal/dispatch/solver"
	"github.com/paotui/paotui/internal/settings"
)

// The offer and dispatch operations through the real router, with the demo campus's staff and
// couriers signed in. Only this test of the package starts the application: apptest.New
// assigns package-level problem tables while wiring it.
func TestHTTP(t *testing.T) {
	env := apptest.New(t)
	tn := env.Tenant("campus", "13800000000", "demo")
	host := env.Host("campus")
	owner := env.Login("campus", "13800000000").AccessToken
	support := env.Login("campus", "13800000003").AccessToken
	c1, c2 := env.Login("campus", "13700000001"), env.Login("campus", "13700000002")
	student := env.Login("campus", "13900000001")

	// The application's own dispatch service, with its real orders and couriers sides: the
	// couriers go online and report where they are; only the clock is the test's.
	clk := &clock{t: time.Now().UTC().Truncate(time.Microsecond)}
	svc := env.App.Dispatch
	dispatch.SetClock(svc, clk.now)
	for _, c := range []struct {
		token string
		at    solver.Point
	}{{c1.AccessToken, north(100)}, {c2.AccessToken, north(2000)}} {
		if r := env.Do(host, "POST", "/api/v1/courier/online", c.token, nil); r.Status != http.StatusOK {
			t.Fatalf("go-online: %d %s", r.Status, r.Body)
		}
		if r := env.Do(host, "POST", "/api/v1/courier/location", c.token, map[string]float64{"lng": c.at.Lng, "lat": c.at.Lat}); r.Status != http.StatusNoContent {
			t.Fatalf("post-location: %d %s", r.Status, r.Body)
		}
	}

	in := func(fn func(tx *gorm.DB) error) {
		t.Helper()
		if err := env.App.DB.InTenant(context.Background(), tn, fn); err != nil {
			t.Fatal(err)
		}
	}
	mode := func(m string) {
		in(func(tx *gorm.DB) error {
			b, err := settings.Load(tx)
			if err != nil {
				return err
			}
			b.DispatchMode, b.OfferTimeout = m, "45s"
			_, err = settings.Save(tx, b)
			return err
		})
	}
	order := func() string {
		id := uuid.NewString()
		p := north(0)
		in(func(tx *gorm.DB) error {
			return tx.Exec(`INSERT INTO orders (id, student_id, task_type, status, pickup_name, pickup_lng, pickup_lat,
					dropoff_name, dropoff_lng, dropoff_lat, form_enc, distance_m, price_lines, total, courier_share_bp,
					quote_id, pay_by, paid_amount, paid_at)
				SELECT ?, ?, key, 'awaiting_courier', '南门快递站', ?, ?, '3号宿舍楼', ?, ?, ?, 800, '[]', 1000, 8000, ?, ?, 1000, ?
				FROM task_types ORDER BY key LIMIT 1`,
				id, student.User.ID, p.Lng, p.Lat, p.Lng, p.Lat, []byte("form"), "q_"+id,
				clk.now().Add(15*time.Minute), clk.now().Add(-time.Minute)).Error
		})
		return id
	}
	call := func(method, path, token string, body any, status int, code string) *apptest.Response {
		t.Helper()
		r := env.Do(host, method, path, token, body)
		if r.Status != status {
			t.Fatalf("%s %s: %d %s; want %d", method, path, r.Status, r.Body, status)
		}
		if code != "" {
			if p := r.Problem(t); p.Code != code {
				t.Fatalf("%s %s: code %q (%s); want %q", method, path, p.Code, p.Detail, code)
			}
		}
		return r
	}
	type runJSON struct {
		Batch struct {
			ID               string
			Orders, Assigned int
			TotalCost        float64
			GreedyCost       float64
		}
		Offers []struct {
			OfferID, OrderID, CourierID string
			Explanation                 []struct{ Name string }
		}
	}
	run := func() runJSON {
		t.Helper()
		var res runJSON
		call("POST", "/api/v1/admin/dispatch/run", owner, nil, http.StatusOK, "").JSON(t, &res)
		return res
	}

	// Grab mode (the demo default until changed): nothing to run.
	mode("grab")
	call("POST", "/api/v1/admin/dispatch/run", owner, nil, http.StatusConflict, "dispatch_off")
	mode("dispatch")
	o1 := order()
	call("POST", "/api/v1/admin/dispatch/run", c1.AccessToken, nil, http.StatusForbidden, "permission_denied")
	call("POST", "/api/v1/admin/dispatch/run", student.AccessToken, nil, http.StatusForbidden, "permission_denied")
	res := run()
	if res.Batch.ID == "" || res.Batch.Orders != 1 || res.Batch.Assigned != 1 || len(res.Offers) != 1 ||
		res.Offers[0].OrderID != o1 || res.Offers[0].CourierID != c1.User.ID || len(res.Offers[0].Explanation) != 5 {
		t.Fatalf("run %+v", res)
	}
	offer := res.Offers[0].OfferID

	// The courier's list.
	var mine struct {
		Items []struct {
			ID, OrderID, Status, PickupName, DropoffName string
			Reward                                       int64
		}
		Total int
	}
	call("GET", "/api/v1/courier/offers", c1.AccessToken, nil, http.StatusOK, "").JSON(t, &mine)
	if mine.Total != 1 || len(mine.Items) != 1 || mine.Items[0].ID != offer || mine.Items[0].PickupName != "南门快递站" ||
		mine.Items[0].DropoffName != "3号宿舍楼" || mine.Items[0].Reward != 800 || mine.Items[0].Status != "pending" {
		t.Fatalf("c1's offers %+v", mine)
	}
	if r := call("GET", "/api/v1/courier/offers?limit=5", c2.AccessToken, nil, http.StatusOK, ""); !strings.Contains(string(r.Body), `"items":[]`) {
		t.Errorf("empty list %s, want items []", r.Body)
	}
	call("GET", "/api/v1/courier/offers?limit=500", c1.AccessToken, nil, http.StatusUnprocessableEntity, "")

	// Accepting.
	accept := "/api/v1/courier/offers/" + offer + "/accept"
	call("POST", accept, c2.AccessToken, nil, http.StatusForbidden, "offer_not_yours")
	call("POST", "/api/v1/courier/offers/"+uuid.NewString()+"/accept", c1.AccessToken, nil, http.StatusNotFound, "offer_not_found")
	call("POST", "/api/v1/courier/offers/nope/accept", c1.AccessToken, nil, http.StatusUnprocessableEntity, "")
	call("POST", accept, student.AccessToken, nil, http.StatusForbidden, "permission_denied")
	var accepted struct{ ID, OrderID, Status string }
	call("POST", accept, c1.AccessToken, nil, http.StatusOK, "").JSON(t, &accepted)
	if accepted.ID != offer || accepted.OrderID != o1 || accepted.Status != "accepted" {
		t.Fatalf("accepted %+v", accepted)
	}
	call("POST", accept, c1.AccessToken, nil, http.StatusConflict, "offer_closed")

	// Why c1 got it.
	var history struct {
		Items []struct {
			ID, CourierID, Status string
			Cost                  float64
			Explanation           []struct {
				Name         string
				Value, Input float64
			}
			Batch struct {
				ID               string
				Orders, Assigned int
			}
		}
		Total int
	}
	call("GET", "/api/v1/admin/orders/"+o1+"/dispatch", support, nil, http.StatusOK, "").JSON(t, &history)
	if history.Total != 1 || len(history.Items) != 1 || history.Items[0].ID != offer || history.Items[0].Status != "accepted" ||
		history.Items[0].CourierID != c1.User.ID || len(history.Items[0].Explanation) != 5 ||
		history.Items[0].Explanation[0].Name != "distance" || history.Items[0].Explanation[0].Input != 100 ||
		history.Items[0].Batch.ID != res.Batch.ID || history.Items[0].Batch.Assigned != 1 {
		t.Fatalf("history %+v", history)
	}
	call("GET", "/api/v1/admin/orders/"+o1+"/dispatch?offset=1", owner, nil, http.StatusOK, "").JSON(t, &history)
	if history.Total != 1 || len(history.Items) != 0 {
		t.Errorf("second page %+v", history)
	}
	call("GET", "/api/v1/admin/orders/"+uuid.NewString()+"/dispatch", owner, nil, http.StatusNotFound, "order_not_found")
	call("GET", "/api/v1/admin/orders/"+o1+"/dispatch", c1.AccessToken, nil, http.StatusForbidden, "permission_denied")

	// Declining: the order goes to the other courier next.
	o2 := order()
	second := run().Offers[0]
	if second.CourierID != c1.User.ID {
		t.Fatalf("o2 offered to %s", second.CourierID)
	}
	decline := "/api/v1/courier/offers/" + second.OfferID + "/decline"
	call("POST", decline, c1.AccessToken, map[string]string{"reason": strings.Repeat("远", 201)}, http.StatusUnprocessableEntity, "")
	call("POST", decline, c2.AccessToken, nil, http.StatusForbidden, "offer_not_yours")
	call("POST", decline, c1.AccessToken, nil, http.StatusNoContent, "")
	call("POST", decline, c1.AccessToken, map[string]string{"reason": "太远"}, http.StatusConflict, "offer_closed")
	third := run().Offers[0]
	if third.OrderID != o2 || third.CourierID != c2.User.ID {
		t.Fatalf("after the decline o2 went to %s", third.CourierID)
	}
	// The student cancels before c2 answers: the order's own problem comes back.
	in(func(tx *gorm.DB) error {
		return tx.Exec(`UPDATE orders SET status = 'cancelled' WHERE id = ?`, o2).Error
	})
	call("POST", "/api/v1/courier/offers/"+third.OfferID+"/accept", c2.AccessToken, nil, http.StatusConflict, "order_cancelled")

	// Too late.
	order()
	late := run().Offers[0]
	token := map[string]string{c1.User.ID: c1.AccessToken, c2.User.ID: c2.AccessToken}[late.CourierID]
	clk.advance(46 * time.Second)
	call("POST", "/api/v1/courier/offers/"+late.OfferID+"/accept", token, nil, http.StatusConflict, "offer_expired")
	call("POST", "/api/v1/courier/offers/"+late.OfferID+"/decline", token, map[string]string{}, http.StatusConflict, "offer_closed")
}
