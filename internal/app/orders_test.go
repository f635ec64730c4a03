package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/app/apptest"
	"github.com/paotui/paotui/internal/ledger"
	"github.com/paotui/paotui/internal/ledger/ledgertest"
	"github.com/paotui/paotui/internal/places"
)

// errandEnv is the demo campus open around the clock, with a student who has money.
type errandEnv struct {
	*apptest.Env
	host    string
	student *apptest.Session
	courier *apptest.Session
	owner   *apptest.Session
	placeID map[string]string
}

func newErrandEnv(t *testing.T, extraEnv ...string) *errandEnv {
	t.Helper()
	env := apptest.New(t, extraEnv...)
	tn := env.Tenant("campus", "13800000000", "demo")
	ctx := context.Background()
	err := env.App.DB.InTenant(ctx, tn, func(tx *gorm.DB) error {
		week := map[time.Weekday][]places.Window{}
		for d := time.Sunday; d <= time.Saturday; d++ {
			week[d] = []places.Window{{Opens: 0, Closes: 24 * 60}}
		}
		return places.PutHours(tx, week)
	})
	if err != nil {
		t.Fatal(err)
	}
	e := &errandEnv{Env: env, host: env.Host("campus"), placeID: map[string]string{}}
	e.owner = env.Login("campus", "13800000000")
	e.student = env.Login("campus", "13900000001")
	e.courier = e.onlineCourier(t, "13700000001")
	r := env.Do(e.host, "GET", "/api/v1/places?limit=200", "", nil)
	var list struct {
		Items []struct{ ID, Name, Kind string }
		Total int
	}
	r.JSON(t, &list)
	if r.Status != 200 || list.Total != 20 {
		t.Fatalf("list-places: %d %s", r.Status, r.Body)
	}
	for _, p := range list.Items {
		e.placeID[p.Name] = p.ID
	}
	// Give the student ¥100 through a staff top-up.
	r = env.Do(e.host, "POST", "/api/v1/users/"+e.student.User.ID+"/wallet/topups", e.owner.AccessToken,
		map[string]any{"amount": 10000, "reason": "welcome credit"})
	if r.Status != 200 {
		t.Fatalf("staff top-up: %d %s", r.Status, r.Body)
	}
	return e
}

// parcelPickupCode is the pickup code errand tests' students type; couriers send it back at pickup.
const parcelPickupCode = "3-2-1108"

// onlineCourier signs in one of the demo campus's couriers (approved when the campus was
// seeded) and takes them online, ready to grab.
func (e *errandEnv) onlineCourier(t testing.TB, phone string) *apptest.Session {
	t.Helper()
	s := e.Login("campus", phone)
	if r := e.Do(e.host, "POST", "/api/v1/courier/online", s.AccessToken, nil); r.Status != http.StatusOK {
		t.Fatalf("go-online %s: %d %s", phone, r.Status, r.Body)
	}
	return s
}

func (e *errandEnv) quoteBody(tip int) map[string]any {
	return map[string]any{
		"taskType": "parcel_pickup",
		"pickup":   map[string]any{"placeId": e.placeID["菜鸟驿站(南区)"]},
		"dropoff":  map[string]any{"placeId": e.placeID["1号学生宿舍"]},
		"size":     "medium",
		"tip":      tip,
		"form":     map[string]any{"pickup_code": " " + parcelPickupCode + " ", "parcel_count": 2},
	}
}

type orderView struct {
	ID           string `json:"id"`
	Number       string `json:"number"`
	Status       string `json:"status"`
	Total        int64  `json:"total"`
	DeliveryCode string `json:"deliveryCode"`
	Lines        []struct {
		Code   string `json:"code"`
		Amount int64  `json:"amount"`
	} `json:"lines"`
}

// The first "done" test: quote, create, pay from the wallet, and the order waits for
// a courier; then a courier takes it to completed and the ledger splits the price.
func TestErrandFromQuoteToSettlement(t *testing.T) {
	e := newErrandEnv(t)
	if e.placeID["菜鸟驿站(南区)"] == "" {
		t.Fatalf("demo places: %v", e.placeID)
	}
	r := e.Do(e.host, "GET", "/api/v1/task-types", "", nil)
	if r.Status != 200 || !strings.Contains(string(r.Body), "代取快递") {
		t.Fatalf("list-task-types: %d %s", r.Status, r.Body)
	}
	r = e.Do(e.host, "POST", "/api/v1/orders/quote", e.student.AccessToken, e.quoteBody(100))
	var q struct {
		Token string `json:"token"`
		Total int64  `json:"total"`
		Lines []struct {
			Code   string `json:"code"`
			Amount int64  `json:"amount"`
		} `json:"lines"`
	}
	r.JSON(t, &q)
	if r.Status != 200 || q.Token == "" || q.Total <= 100 {
		t.Fatalf("quote: %d %s", r.Status, r.Body)
	}
	var sum int64
	for _, l := range q.Lines {
		sum += l.Amount
	}
	if sum != q.Total {
		t.Fatalf("lines sum to %d, total %d", sum, q.Total)
	}

	body := e.quoteBody(100)
	body["quoteToken"] = q.Token
	r = e.Do(e.host, "POST", "/api/v1/orders", e.student.AccessToken, body)
	var o orderView
	r.JSON(t, &o)
	if r.Status != http.StatusCreated || o.Status != "awaiting_payment" || o.Total != q.Total || len(o.DeliveryCode) != 6 ||
		len(o.Number) != 7 || o.Number == "P000000" {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	// The same token again returns the same order, not a second one.
	r2 := e.Do(e.host, "POST", "/api/v1/orders", e.student.AccessToken, body)
	var again orderView
	r2.JSON(t, &again)
	if r2.Status != 200 || again.ID != o.ID || again.Number != o.Number {
		t.Fatalf("replayed create: %d %s", r2.Status, r2.Body)
	}

	r = e.Do(e.host, "POST", "/api/v1/orders/"+o.ID+"/pay", e.student.AccessToken, map[string]string{"method": "wallet"})
	var paid struct{ Order orderView }
	r.JSON(t, &paid)
	if r.Status != 200 || paid.Order.Status != "awaiting_courier" {
		t.Fatalf("pay: %d %s", r.Status, r.Body)
	}
	// Paying twice is refused and moves no money.
	r = e.Do(e.host, "POST", "/api/v1/orders/"+o.ID+"/pay", e.student.AccessToken, map[string]string{"method": "wallet"})
	if r.Status != http.StatusConflict {
		t.Fatalf("second payment: %d %s", r.Status, r.Body)
	}

	for _, step := range []struct{ path, body, want string }{
		{"grab", `{}`, "accepted"},
		{"pickup", `{"code":"` + parcelPickupCode + `"}`, "picked_up"},
		{"deliver", `{"code":"` + o.DeliveryCode + `"}`, "delivered"},
	} {
		r = e.Do(e.host, "POST", "/api/v1/orders/"+o.ID+"/"+step.path, e.courier.AccessToken, step.body)
		var v orderView
		r.JSON(t, &v)
		if r.Status != 200 || v.Status != step.want {
			t.Fatalf("%s: %d %s", step.path, r.Status, r.Body)
		}
	}
	r = e.Do(e.host, "POST", "/api/v1/orders/"+o.ID+"/confirm", e.student.AccessToken, nil)
	if r.Status != 200 || !strings.Contains(string(r.Body), `"status":"completed"`) {
		t.Fatalf("confirm: %d %s", r.Status, r.Body)
	}
	r = e.Do(e.host, "POST", "/api/v1/orders/"+o.ID+"/review", e.student.AccessToken, map[string]any{"rating": 5, "tags": []string{"准时"}, "comment": "谢谢"})
	if r.Status != http.StatusNoContent {
		t.Fatalf("review: %d %s", r.Status, r.Body)
	}
	if r := e.Do(e.host, "POST", "/api/v1/orders/"+o.ID+"/review", e.student.AccessToken, map[string]any{"rating": 4}); r.Status != http.StatusConflict {
		t.Fatalf("second review: %d %s", r.Status, r.Body)
	}

	// courier share + tenant share = price, and the ledger is sound.
	tn, _ := e.App.Registry.BySlug(context.Background(), "campus")
	var earned, revenue, escrow ledger.Money
	_ = e.App.DB.InTenant(context.Background(), tn, func(tx *gorm.DB) error {
		earned, _ = ledger.Balance(tx, ledger.Earnings(e.courier.User.ID))
		revenue, _ = ledger.Balance(tx, ledger.Revenue())
		escrow, _ = ledger.Balance(tx, ledger.Escrow(o.ID))
		return nil
	})
	if int64(earned+revenue) != q.Total || escrow != 0 || earned <= 100 {
		t.Fatalf("courier %d + tenant %d != price %d (escrow %d)", earned, revenue, q.Total, escrow)
	}
	ledgertest.RequireClean(t, e.App.DB, tn)
	var out strings.Builder
	if err := e.App.CheckLedgers(context.Background(), &out, "campus"); err != nil {
		t.Fatalf("ledger check: %v %s", err, out.String())
	}
}
