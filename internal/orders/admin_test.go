package orders_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/app/apptest"
	"github.com/paotui/paotui/internal/ledger/ledgertest"
	"github.com/paotui/paotui/internal/orders"
	"github.com/paotui/paotui/internal/places"
	"github.com/paotui/paotui/internal/platform/tenancy"
)

// campus is the demo tenant open around the clock, with a student holding ¥100 and staff of
// two kinds: the owner (every permission) and support (orders:read only).
type campus struct {
	*apptest.Env
	tn                                        *tenancy.Tenant
	host                                      string
	owner, support, finance, student, courier *apptest.Session
	at                                        struct{ lng, lat float64 } // a point inside the delivery zone
	places                                    map[string]string
}

func newCampus(t *testing.T) *campus {
	t.Helper()
	env := apptest.New(t)
	c := &campus{Env: env, tn: env.Tenant("campus", "13800000000", "demo"), host: env.Host("campus"), places: map[string]string{}}
	err := env.App.DB.InTenant(context.Background(), c.tn, func(tx *gorm.DB) error {
		week := map[time.Weekday][]places.Window{}
		for d := time.Sunday; d <= time.Saturday; d++ {
			week[d] = []places.Window{{Opens: 0, Closes: 24 * 60}}
		}
		return places.PutHours(tx, week)
	})
	if err != nil {
		t.Fatal(err)
	}
	c.owner = env.Login("campus", "13800000000")
	c.support = env.Login("campus", "13800000003")
	c.finance = env.Login("campus", "13800000002")
	c.student = env.Login("campus", "13900000001")
	c.courier = env.Login("campus", "13700000001")
	r := env.Do(c.host, "GET", "/api/v1/places?limit=200", "", nil)
	var list struct {
		Items []struct {
			ID, Name string
			At       struct{ Lng, Lat float64 }
		}
	}
	r.JSON(t, &list)
	for _, p := range list.Items {
		c.places[p.Name] = p.ID
		if p.Name == "1号学生宿舍" {
			c.at.lng, c.at.lat = p.At.Lng, p.At.Lat
		}
	}
	if c.places["菜鸟驿站(南区)"] == "" || c.at.lng == 0 {
		t.Fatalf("demo places: %d %s", r.Status, r.Body)
	}
	if r := env.Do(c.host, "POST", "/api/v1/users/"+c.student.User.ID+"/wallet/topups", c.owner.AccessToken,
		map[string]any{"amount": 10000, "reason": "welcome credit"}); r.Status != http.StatusOK {
		t.Fatalf("staff top-up: %d %s", r.Status, r.Body)
	}
	return c
}

// order places an errand for the student; a non-empty pin labels a dropped-pin pickup.
func (c *campus) order(t *testing.T, pin string) orderJSON {
	t.Helper()
	body := map[string]any{
		"taskType": "parcel_pickup",
		"pickup":   map[string]any{"placeId": c.places["菜鸟驿站(南区)"]},
		"dropoff":  map[string]any{"placeId": c.places["1号学生宿舍"]},
		"size":     "medium",
		"tip":      100,
		"form":     map[string]any{"pickup_code": "SECRET-3-2-1108", "parcel_count": 2},
	}
	if pin != "" {
		body["pickup"] = map[string]any{"lng": c.at.lng, "lat": c.at.lat, "label": pin}
	}
	r := c.Do(c.host, "POST", "/api/v1/orders/quote", c.student.AccessToken, body)
	var q struct{ Token string }
	r.JSON(t, &q)
	if r.Status != http.StatusOK {
		t.Fatalf("quote: %d %s", r.Status, r.Body)
	}
	body["quoteToken"] = q.Token
	r = c.Do(c.host, "POST", "/api/v1/orders", c.student.AccessToken, body)
	var o orderJSON
	r.JSON(t, &o)
	if r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	return o
}

func (c *campus) pay(t *testing.T, o orderJSON) {
	t.Helper()
	if r := c.Do(c.host, "POST", "/api/v1/orders/"+o.ID+"/pay", c.student.AccessToken, map[string]string{"method": "wallet"}); r.Status != http.StatusOK {
		t.Fatalf("pay: %d %s", r.Status, r.Body)
	}
}

type orderJSON struct {
	ID     string `json:"id"`
	Number string `json:"number"`
	Total  int64  `json:"total"`
	Status string `json:"status"`
}

type detailJSON struct {
	Status   string `json:"status"`
	Timeline []struct {
		Event     string `json:"event"`
		ToStatus  string `json:"toStatus"`
		ActorKind string `json:"actorKind"`
	} `json:"timeline"`
	Journals []struct {
		Kind    string `json:"kind"`
		Entries []struct {
			Account string `json:"account"`
			Amount  int64  `json:"amount"`
		} `json:"entries"`
	} `json:"journals"`
	Notes []struct {
		ID       int64  `json:"id"`
		AuthorID string `json:"authorId"`
		Note     string `json:"note"`
	} `json:"notes"`
}

// Staff see an order's money movements and their own notes in the order detail; adding a
// note needs orders:note: owner, admin, dispatcher and support hold it; finance does not.
func TestOrderDetailHasJournalsAndNotes(t *testing.T) {
	t.Parallel()
	c := newCampus(t)
	o := c.order(t, "")
	c.pay(t, o)
	if r := c.Do(c.host, "POST", "/api/v1/admin/orders/"+o.ID+"/refund", c.owner.AccessToken,
		map[string]any{"amount": 100, "reason": "late"}); r.Status != http.StatusOK {
		t.Fatalf("refund: %d %s", r.Status, r.Body)
	}

	notes := "/api/v1/admin/orders/" + o.ID + "/notes"
	cases := []struct {
		name   string
		path   string
		token  string
		note   string
		status int
		code   string
	}{
		{"owner adds a note", notes, c.owner.AccessToken, "  学生来电,说快递放门卫  ", http.StatusCreated, ""},
		{"blank note", notes, c.owner.AccessToken, "   ", http.StatusUnprocessableEntity, "note_invalid"},
		{"too long", notes, c.owner.AccessToken, strings.Repeat("长", 1001), http.StatusUnprocessableEntity, ""},
		{"finance may not note", notes, c.finance.AccessToken, "hello", http.StatusForbidden, "permission_denied"},
		{"student may not note", notes, c.student.AccessToken, "hello", http.StatusForbidden, "permission_denied"},
		{"unknown order", "/api/v1/admin/orders/" + uuid.NewString() + "/notes", c.owner.AccessToken, "hello", http.StatusNotFound, "order_not_found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := c.Do(c.host, "POST", tc.path, tc.token, map[string]string{"note": tc.note})
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Body)
			}
			if tc.code != "" && r.Problem(t).Code != tc.code {
				t.Fatalf("code %q, want %q", r.Problem(t).Code, tc.code)
			}
			if tc.status == http.StatusCreated {
				var n struct {
					ID       int64  `json:"id"`
					AuthorID string `json:"authorId"`
					Note     string `json:"note"`
				}
				r.JSON(t, &n)
				if n.ID == 0 || n.AuthorID != c.owner.User.ID || n.Note != "学生来电,说快递放门卫" {
					t.Fatalf("note %+v", n)
				}
			}
		})
	}

	// The student cancels: the rest of the payment goes back, and the timeline says the
	// system refunded it (students cannot refund).
	if r := c.Do(c.host, "POST", "/api/v1/orders/"+o.ID+"/cancel", c.student.AccessToken, map[string]string{"reason": "不要了"}); r.Status != http.StatusOK {
		t.Fatalf("cancel: %d %s", r.Status, r.Body)
	}
	r := c.Do(c.host, "GET", "/api/v1/admin/orders/"+o.ID, c.support.AccessToken, nil)
	var d detailJSON
	r.JSON(t, &d)
	if r.Status != http.StatusOK || d.Status != "refunded" {
		t.Fatalf("detail: %d %s", r.Status, r.Body)
	}
	var events []string
	for _, e := range d.Timeline {
		events = append(events, e.Event+">"+e.ToStatus+"@"+e.ActorKind)
	}
	if got, want := strings.Join(events, " "), "create>awaiting_payment@student pay>awaiting_courier@system cancel>cancelled@student refund>refunded@system"; got != want {
		t.Fatalf("timeline %s\nwant     %s", got, want)
	}
	var kinds []string
	var escrow int64
	for _, j := range d.Journals {
		kinds = append(kinds, j.Kind)
		for _, e := range j.Entries {
			if e.Account == "escrow:"+o.ID {
				escrow += e.Amount
			}
		}
	}
	if strings.Join(kinds, ",") != "payment,refund,refund" || escrow != 0 {
		t.Fatalf("journals %v leave %d in escrow: %s", kinds, escrow, r.Body)
	}
	if len(d.Notes) != 1 || d.Notes[0].Note != "学生来电,说快递放门卫" {
		t.Fatalf("notes %+v", d.Notes)
	}
	ledgertest.RequireClean(t, c.App.DB, c.tn)
}

// readCSV fetches export-orders and parses it.
func (c *campus) readCSV(t *testing.T, query string) (*apptest.Response, [][]string) {
	t.Helper()
	r := c.Do(c.host, "GET", "/api/v1/admin/orders/export.csv"+query, c.owner.AccessToken, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("export%s: %d %s", query, r.Status, r.Body)
	}
	if !bytes.HasPrefix(r.Body, []byte("\xEF\xBB\xBF")) {
		t.Fatalf("no byte-order mark: %q", r.Body[:min(len(r.Body), 20)])
	}
	rows, err := csv.NewReader(bytes.NewReader(r.Body[3:])).ReadAll()
	if err != nil {
		t.Fatalf("export%s is not CSV: %v", query, err)
	}
	if len(rows) == 0 || rows[0][0] != "订单号/Number" || len(rows[0]) != 13 {
		t.Fatalf("header %v", rows)
	}
	return r, rows[1:]
}

// export-orders streams the orders list-orders finds as CSV for Excel, with no personal data,
// across pages and up to the cap.
func TestExportOrdersCSV(t *testing.T) {
	t.Parallel()
	c := newCampus(t)
	paid := c.order(t, "")
	c.pay(t, paid)
	pinned := c.order(t, "=HYPERLINK(\"http://evil\")")
	third := c.order(t, "")
	sameTotal := 0
	for _, o := range []orderJSON{paid, pinned, third} {
		if o.Total == paid.Total {
			sameTotal++
		}
	}

	r, rows := c.readCSV(t, "")
	if len(rows) != 3 {
		t.Fatalf("%d rows, want 3", len(rows))
	}
	today := time.Now().In(mustShanghai(t)).Format("20060102")
	if got := r.Header.Get("Content-Disposition"); got != `attachment; filename="orders-`+today+`.csv"` {
		t.Fatalf("Content-Disposition %q", got)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") || r.Header.Get("X-Export-Truncated") != "false" {
		t.Fatalf("Content-Type %q, truncated %q", ct, r.Header.Get("X-Export-Truncated"))
	}
	if strings.Contains(string(r.Body), "SECRET") {
		t.Fatal("the export carries form values")
	}
	byNumber := map[string][]string{}
	for _, row := range rows {
		byNumber[row[0]] = row
	}
	p := byNumber[paid.Number]
	want := fmt.Sprintf("%d.%02d", paid.Total/100, paid.Total%100)
	if p == nil || p[2] != "awaiting_courier" || p[3] != "parcel_pickup" || p[4] != c.student.User.ID || p[8] != want ||
		p[9] != "1.00" || p[10] != want || p[11] != "0.00" || p[12] != "wallet" || p[6] != "菜鸟驿站(南区)" {
		t.Fatalf("paid order's row %v (total %s)", p, want)
	}
	if at, err := time.ParseInLocation("2006-01-02 15:04:05", p[1], mustShanghai(t)); err != nil || time.Since(at) > time.Minute || time.Since(at) < -time.Second {
		t.Fatalf("created at %q is not now in Shanghai time (%v)", p[1], err)
	}
	if got := byNumber[pinned.Number][6]; got != `'=HYPERLINK("http://evil")` {
		t.Fatalf("a formula label is exported as %q", got)
	}

	filters := []struct {
		name, query string
		rows        int
	}{
		{"status", "?status=awaiting_courier", 1},
		{"two statuses", "?status=awaiting_courier&status=awaiting_payment", 3},
		{"student", "?studentId=" + c.student.User.ID, 3},
		{"courier", "?courierId=" + c.courier.User.ID, 0},
		{"created before", "?to=" + time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), 0},
		{"created since", "?from=" + time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), 3},
		{"amount", fmt.Sprintf("?minTotal=%d&maxTotal=%d", paid.Total, paid.Total), sameTotal},
		{"amount above", fmt.Sprintf("?minTotal=%d", paid.Total+1), 0},
		{"task type", "?taskType=food_purchase", 0},
	}
	for _, f := range filters {
		t.Run(f.name, func(t *testing.T) {
			if _, rows := c.readCSV(t, f.query); len(rows) != f.rows {
				t.Fatalf("%d rows, want %d", len(rows), f.rows)
			}
			q := "?"
			if f.query != "" {
				q = f.query + "&"
			}
			r := c.Do(c.host, "GET", "/api/v1/admin/orders"+q+"limit=200", c.owner.AccessToken, nil)
			var list struct{ Total int }
			r.JSON(t, &list)
			if r.Status != http.StatusOK || list.Total != f.rows {
				t.Fatalf("list-orders finds %d, want %d: %d %s", list.Total, f.rows, r.Status, r.Body)
			}
		})
	}
	for _, bad := range []struct {
		name, query, token string
		status             int
	}{
		{"unknown status", "?status=lost", c.owner.AccessToken, http.StatusUnprocessableEntity},
		{"support lacks orders:export", "", c.support.AccessToken, http.StatusForbidden},
		{"student", "", c.student.AccessToken, http.StatusForbidden},
	} {
		r := c.Do(c.host, "GET", "/api/v1/admin/orders/export.csv"+bad.query, bad.token, nil)
		if r.Status != bad.status || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/problem+json") {
			t.Errorf("%s: %d %s %s", bad.name, r.Status, r.Header.Get("Content-Type"), r.Body)
		}
	}

	// Many orders: read page by page, each once, newest first; past the cap, the newest.
	err := c.App.DB.InTenant(context.Background(), c.tn, func(tx *gorm.DB) error {
		return tx.Exec(`INSERT INTO orders (id, student_id, task_type, status, pickup_name, pickup_lng, pickup_lat,
			dropoff_name, dropoff_lng, dropoff_lat, form_enc, distance_m, price_lines, total, tip, courier_share_bp,
			quote_id, pay_by, created_at, updated_at)
			SELECT gen_random_uuid(), student_id, task_type, status, pickup_name, pickup_lng, pickup_lat,
			dropoff_name, dropoff_lng, dropoff_lat, form_enc, distance_m, price_lines, total, tip, courier_share_bp,
			'bulk-' || g, pay_by, created_at - (g % 700) * interval '1 second', updated_at
			FROM orders, generate_series(1, 2500) AS g WHERE id = ?`, pinned.ID).Error
	})
	if err != nil {
		t.Fatal(err)
	}
	_, rows = c.readCSV(t, "")
	seen := map[string]bool{}
	for i, row := range rows {
		if seen[row[0]] {
			t.Fatalf("order %s exported twice", row[0])
		}
		seen[row[0]] = true
		if i > 0 && row[1] > rows[i-1][1] {
			t.Fatalf("row %d (%s) is newer than the row before it (%s)", i, row[1], rows[i-1][1])
		}
	}
	if len(rows) != 2503 {
		t.Fatalf("%d rows, want 2503", len(rows))
	}
	orders.SetExportCap(c.App.Orders, 1500)
	r, rows = c.readCSV(t, "")
	if len(rows) != 1500 || r.Header.Get("X-Export-Truncated") != "true" {
		t.Fatalf("capped export: %d rows, truncated %q", len(rows), r.Header.Get("X-Export-Truncated"))
	}
}

func mustShanghai(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
