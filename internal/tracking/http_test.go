package tracking_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/app/apptest"
	"github.com/paotui/paotui/internal/tracking"
)

// The courier's position report and the staff's trail, through the real router, tokens and
// permissions of the demo campus.
func TestHTTP(t *testing.T) {
	env := apptest.New(t)
	svc := tracking.New(env.App.Redis, env.App.DB, tracking.Options{})
	// Until the application wires them, the test adds the operations itself; registering is
	// idempotent, so this keeps working once it does.
	tracking.RegisterHTTP(env.Server.API, svc)
	tracking.RegisterHTTP(env.Server.API, svc)
	tn := env.Tenant("campus", "13800000000", "demo")
	host := env.Host("campus")
	courier, student, support := env.Login("campus", "13700000001"), env.Login("campus", "13900000001"), env.Login("campus", "13800000003")
	ctx := context.Background()

	orderID := uuid.NewString()
	err := env.App.DB.InTenant(ctx, tn, func(tx *gorm.DB) error {
		return tx.Exec(`INSERT INTO orders (id, student_id, courier_id, task_type, status, pickup_name, pickup_lng, pickup_lat,
			dropoff_name, dropoff_lng, dropoff_lat, form_enc, distance_m, price_lines, total, courier_share_bp, quote_id, pay_by)
			VALUES (?, ?, ?, 'parcel_pickup', 'accepted', '驿站', 116.30, 39.99, '宿舍', 116.31, 39.98, '\x00', 1200, '[]', 500, 8000, ?, now())`,
			orderID, student.User.ID, courier.User.ID, orderID).Error
	})
	if err != nil {
		t.Fatal(err)
	}

	post := func(token string, body any, status int, code string) *apptest.Response {
		t.Helper()
		r := env.Do(host, "POST", "/api/v1/courier/location", token, body)
		if r.Status != status {
			t.Fatalf("post-location %v: %d %s; want %d", body, r.Status, r.Body, status)
		}
		if code != "" {
			if p := r.Problem(t); p.Code != code {
				t.Fatalf("post-location %v: code %q (%s); want %q", body, p.Code, p.Detail, code)
			}
		}
		return r
	}
	here := map[string]any{"lng": 116.3105, "lat": 39.9902, "accuracy": 12.5, "at": time.Now().UTC().Format(time.RFC3339Nano)}

	post(courier.AccessToken, here, http.StatusConflict, "courier_offline")
	if err := env.App.Redis.SAdd(ctx, "t:"+strconv.FormatInt(tn.ID, 10)+":couriers:online", courier.User.ID).Err(); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct {
		body     map[string]any
		location string
	}{
		{map[string]any{"lng": 116.3, "lat": 91}, "body.lat"},
		{map[string]any{"lng": -190, "lat": 39.9}, "body.lng"},
		{map[string]any{"lng": 0, "lat": 0}, "body.lng"},
		{map[string]any{"lng": 116.3, "lat": 39.9, "accuracy": 9000}, "body.accuracy"},
	} {
		r := post(courier.AccessToken, bad.body, http.StatusUnprocessableEntity, "location_invalid")
		if p := r.Problem(t); len(p.Errors) != 1 || p.Errors[0].Location != bad.location {
			t.Fatalf("%v: errors %s; want one at %s", bad.body, r.Body, bad.location)
		}
	}
	post(student.AccessToken, here, http.StatusForbidden, "permission_denied")
	post(courier.AccessToken, here, http.StatusNoContent, "")
	r := post(courier.AccessToken, here, http.StatusTooManyRequests, "location_too_frequent")
	if ra, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 2 {
		t.Fatalf("Retry-After %q, want 1 or 2 seconds", r.Header.Get("Retry-After"))
	}
	time.Sleep(tracking.DefaultMinInterval + 100*time.Millisecond)
	post(courier.AccessToken, map[string]any{"lng": 121.47, "lat": 31.23}, http.StatusUnprocessableEntity, "location_implausible")

	n, err := svc.Flush(ctx, env.App.Registry)
	if err != nil || n != 1 {
		t.Fatalf("Flush = %d, %v; want 1 point stored", n, err)
	}
	trail := "/api/v1/admin/orders/" + orderID + "/trail"
	r = env.Do(host, "GET", trail, support.AccessToken, nil)
	var page struct {
		Items []struct {
			CourierID string    `json:"courierId"`
			At        time.Time `json:"at"`
			Lng       float64   `json:"lng"`
			Lat       float64   `json:"lat"`
			Accuracy  float64   `json:"accuracy"`
		} `json:"items"`
		More *bool `json:"more"`
	}
	r.JSON(t, &page)
	if r.Status != http.StatusOK || len(page.Items) != 1 || page.More == nil || *page.More {
		t.Fatalf("get-order-trail: %d %s", r.Status, r.Body)
	}
	if p := page.Items[0]; p.CourierID != courier.User.ID || p.Lng != 116.3105 || p.Lat != 39.9902 || p.Accuracy != 12.5 {
		t.Fatalf("trail point %+v", p)
	}
	for _, c := range []struct {
		path, token string
		status      int
		code        string
	}{
		{trail, student.AccessToken, http.StatusForbidden, "permission_denied"},
		{trail + "?after=" + page.Items[0].At.Format(time.RFC3339Nano), support.AccessToken, http.StatusOK, ""},
		{"/api/v1/admin/orders/" + uuid.NewString() + "/trail", support.AccessToken, http.StatusNotFound, "order_not_found"},
		{trail + "?limit=0", support.AccessToken, http.StatusUnprocessableEntity, ""},
	} {
		r := env.Do(host, "GET", c.path, c.token, nil)
		if r.Status != c.status || (c.code != "" && r.Problem(t).Code != c.code) {
			t.Fatalf("GET %s: %d %s; want %d %s", c.path, r.Status, r.Body, c.status, c.code)
		}
		if c.status == http.StatusOK {
			var rest struct {
				Items []any `json:"items"`
			}
			if r.JSON(t, &rest); rest.Items == nil || len(rest.Items) != 0 {
				t.Fatalf("page after the last point: %s; want items []", r.Body)
			}
		}
	}
}
