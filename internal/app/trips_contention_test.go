package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/app/apptest"
	"github.com/paotui/paotui/internal/authz"
	"github.com/paotui/paotui/internal/couriers"
	"github.com/paotui/paotui/internal/httpx"
	"github.com/paotui/paotui/internal/ledger/ledgertest"
	"github.com/paotui/paotui/internal/orders"
	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/settings"
)

// The grab tests: a single conditional update picks the winner among couriers grabbing
// at once, and the courier gate and the concurrent-orders limit hold in the same decision.
// Couriers are made through the services (identity, authz, couriers), many of them, so that
// every grabber is a distinct courier: one courier grabbing twice is a retry, not a race.

// The first grab test: 200 couriers grab one order placed and paid through the real
// service; exactly one wins and the 199 others are told order_already_taken. One of them is
// the demo courier going through HTTP, so the code is checked on the wire as well.
func TestGrabTwoHundredCouriersOneOrderOneWinner(t *testing.T) {
	e := newErrandEnv(t)
	c := e.grabCampus(t)
	ctx := context.Background()
	grabbers := append(c.couriers(t, 1, 199, stageOnline), e.courier.User.ID)
	o := e.createPaid(t)
	viaHTTP := len(grabbers) - 1

	codes := make([]string, len(grabbers))
	together(len(grabbers), func(i int) {
		if i == viaHTTP {
			r := e.Do(e.host, "POST", "/api/v1/orders/"+o.ID+"/grab", e.courier.AccessToken, `{}`)
			var p httpx.Problem
			switch {
			case r.Status == http.StatusOK:
				codes[i] = ""
			case r.Status == http.StatusConflict && json.Unmarshal(r.Body, &p) == nil:
				codes[i] = p.Code
			default:
				codes[i] = fmt.Sprintf("HTTP %d %s", r.Status, r.Body)
			}
			return
		}
		_, err := e.App.Orders.Grab(ctx, c.tn, grabbers[i], o.ID)
		codes[i] = grabProblem(err)
	})

	var winners []string
	others := map[string]int{}
	for i, code := range codes {
		switch code {
		case "":
			winners = append(winners, grabbers[i])
		case "order_already_taken":
		default:
			others[code]++
		}
	}
	if len(others) > 0 {
		t.Errorf("losers were told %v; want order_already_taken", others)
	}
	if len(winners) != 1 {
		t.Fatalf("%d of %d grabbers won", len(winners), len(grabbers))
	}
	winner := winners[0]
	reportAnomalies(t, c.orderAnomalies(t, []string{o.ID}, 3))
	var got struct{ Status, CourierID string }
	c.query(t, &got, `SELECT status, coalesce(courier_id::text, '') AS courier_id FROM orders WHERE id = ?`, o.ID)
	if got.Status != "accepted" || got.CourierID != winner {
		t.Fatalf("order is %s with courier %s; the winner was %s", got.Status, got.CourierID, winner)
	}
	ledgertest.RequireClean(t, e.App.DB, c.tn)
}

// The second grab test: 50 couriers work a hall of 500 orders at once, each grabbing
// among the first page of what is still open (as couriers do in the app, which puts several
// on the same order). No order ends with two couriers, every taken order has one accept
// event by its courier, nobody carries more than the limit, and the number of successful
// grabs is the number of taken orders.
func TestGrabFiftyCouriersFiveHundredOrders(t *testing.T) {
	e := newErrandEnv(t)
	c := e.grabCampus(t)
	ctx := context.Background()
	const nCouriers, nOrders, maxActive, page = 50, 500, 20, 30
	// 50 × 20 = 1000 places for 500 orders: every order can be taken, so the hall empties.
	c.setRules(t, func(b *settings.Business) { b.MaxActiveOrders = maxActive })
	grabbers := c.couriers(t, 2, nCouriers, stageOnline)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	ids := c.openOrders(t, nOrders, seed)
	hall := &grabHall{open: append([]string(nil), ids...)}

	var (
		mu       sync.Mutex
		winners  = map[string][]string{} // order -> couriers told they won it
		held     = map[string]int{}      // courier -> orders won
		attempts int
		full     int // couriers refused at capacity
	)
	together(nCouriers, func(i int) {
		me := grabbers[i]
		rng := rand.New(rand.NewPCG(seed, uint64(i)))
		for {
			id, ok := hall.pick(rng, page)
			if !ok {
				return
			}
			_, err := e.App.Orders.Grab(ctx, c.tn, me, id)
			code := grabProblem(err)
			mu.Lock()
			attempts++
			switch code {
			case "":
				winners[id] = append(winners[id], me)
				held[me]++
			case "courier_at_capacity":
				full++
				// Nobody delivers in this test, so the limit is the only reason to be refused
				// an open order: a courier below it must never hear this.
				if held[me] != maxActive {
					t.Errorf("courier %d refused at capacity holding %d of %d", i, held[me], maxActive)
				}
			}
			mu.Unlock()
			switch code {
			case "", "order_already_taken":
				hall.drop(id)
			case "courier_at_capacity":
				return
			default:
				t.Errorf("courier %d grabbing %s: %s", i, id, code)
				return
			}
		}
	})
	t.Logf("%d grabs for %d orders; %d couriers filled up", attempts, nOrders, full)

	wins, doubled, example := 0, 0, ""
	for id, ws := range winners {
		wins += len(ws)
		if len(ws) > 1 {
			doubled++
			example = fmt.Sprintf("order %s went to %v", id, ws)
		}
	}
	if doubled > 0 {
		t.Errorf("%d orders have several winners, e.g. %s", doubled, example)
	}
	if attempts <= nOrders {
		t.Errorf("%d grabs for %d orders: no order was contended, the test proved nothing", attempts, nOrders)
	}
	reportAnomalies(t, c.orderAnomalies(t, ids, maxActive))
	var taken int64
	c.query(t, &taken, `SELECT count(*) FROM orders WHERE id IN ? AND status = 'accepted'`, ids)
	if int64(wins) != taken || taken != nOrders {
		t.Errorf("%d grabs succeeded, %d orders are taken; want both %d", wins, taken, nOrders)
	}
	var holders []struct{ ID, CourierID string }
	c.query(t, &holders, `SELECT id::text, coalesce(courier_id::text, '') AS courier_id FROM orders WHERE id IN ?`, ids)
	for _, h := range holders {
		if ws := winners[h.ID]; len(ws) == 0 || h.CourierID != ws[0] {
			t.Errorf("order %s is held by %q; the couriers told they won it: %v", h.ID, h.CourierID, ws)
		}
	}
}

// The concurrent-orders limit is part of the decision: one courier firing 20 grabs at once,
// with a limit of 3, gets exactly 3 orders. A count taken before the update instead of under
// the courier's lock would let most of the 20 through.
func TestGrabLimitHoldsWhenOneCourierGrabsManyAtOnce(t *testing.T) {
	e := newErrandEnv(t)
	c := e.grabCampus(t)
	ctx := context.Background()
	const maxActive, nOrders = 3, 20
	c.setRules(t, func(b *settings.Business) { b.MaxActiveOrders = maxActive })
	me := c.couriers(t, 3, 1, stageOnline)[0]
	ids := c.openOrders(t, nOrders, 3)

	codes := make([]string, nOrders)
	together(nOrders, func(i int) {
		_, err := e.App.Orders.Grab(ctx, c.tn, me, ids[i])
		codes[i] = grabProblem(err)
	})
	count := map[string]int{}
	for _, code := range codes {
		count[code]++
	}
	if count[""] != maxActive || count["courier_at_capacity"] != nOrders-maxActive {
		t.Fatalf("outcomes %v; want %d won and %d courier_at_capacity", count, maxActive, nOrders-maxActive)
	}
	var mine, open int64
	c.query(t, &mine, `SELECT count(*) FROM orders WHERE courier_id = ? AND status = 'accepted'`, me)
	c.query(t, &open, `SELECT count(*) FROM orders WHERE id IN ? AND status = 'awaiting_courier' AND courier_id IS NULL`, ids)
	if mine != maxActive || open != nOrders-maxActive {
		t.Fatalf("courier holds %d, %d orders still open; want %d and %d", mine, open, maxActive, nOrders-maxActive)
	}
	reportAnomalies(t, c.orderAnomalies(t, ids, maxActive))
}

// The gate refuses in the same decision as the update, with its own codes: couriers who may
// not grab race the ones who may, on every order, and never win. Then, for each refusal that
// can change under a courier's feet (going offline, a suspension, a credit drop), the change
// is held uncommitted while the courier's grabs are in flight; when it commits, every one of
// them is refused. A gate read outside the grab's lock would have let them through on the
// stale profile.
func TestGrabGateRefusesInTheSameDecision(t *testing.T) {
	e := newErrandEnv(t)
	c := e.grabCampus(t)
	ctx := context.Background()
	const minCredit = 60
	c.setRules(t, func(b *settings.Business) { b.MaxActiveOrders, b.MinCredit = 20, minCredit })

	t.Run("ineligible couriers race eligible ones", func(t *testing.T) {
		eligible := c.couriers(t, 4, 5, stageOnline)
		offline := c.couriers(t, 5, 1, stageOnline)[0]
		if _, err := e.App.Couriers.GoOffline(ctx, c.tn, offline); err != nil {
			t.Fatal(err)
		}
		suspended := c.couriers(t, 6, 1, stageOnline)[0]
		if _, err := e.App.Couriers.Suspend(ctx, c.tn, c.staffID, suspended, "late three times"); err != nil {
			t.Fatal(err)
		}
		lowCredit := c.couriers(t, 7, 1, stageOnline)[0]
		// No service moves credit scores yet, so the score is written directly.
		c.exec(t, `UPDATE courier_profiles SET credit_score = ? WHERE user_id = ?`, minCredit-1, lowCredit)
		refused := []struct{ who, id, code string }{
			{"offline", offline, "courier_offline"},
			{"suspended", suspended, "courier_suspended"},
			{"pending", c.couriers(t, 8, 1, stageApplied)[0], "courier_not_approved"},
			{"never applied", c.studentID, "courier_not_approved"},
			{"credit below the floor", lowCredit, "courier_credit_too_low"},
		}
		grabbers := append([]string(nil), eligible...)
		for _, r := range refused {
			grabbers = append(grabbers, r.id)
		}
		const nOrders = 10
		ids := c.openOrders(t, nOrders, 4)
		codes := make([][]string, nOrders)
		for k := range codes {
			codes[k] = make([]string, len(grabbers))
		}
		together(nOrders*len(grabbers), func(n int) {
			k, i := n/len(grabbers), n%len(grabbers)
			_, err := e.App.Orders.Grab(ctx, c.tn, grabbers[i], ids[k])
			codes[k][i] = grabProblem(err)
		})
		for k := range nOrders {
			won := 0
			for i, code := range codes[k][:len(eligible)] {
				switch code {
				case "":
					won++
				case "order_already_taken":
				default:
					t.Errorf("order %d, eligible courier %d: %s", k, i, code)
				}
			}
			if won != 1 {
				t.Errorf("order %d: %d eligible winners", k, won)
			}
			// An ineligible courier never wins. Its answer is its own gate refusal, or
			// order_already_taken when it queued behind the grab that decided the order
			// (Grab answers those without a transaction).
			for j, r := range refused {
				if got := codes[k][len(eligible)+j]; got != r.code && got != "order_already_taken" {
					t.Errorf("order %d, %s courier: %q; want %s or order_already_taken", k, r.who, got, r.code)
				}
			}
		}
		reportAnomalies(t, c.orderAnomalies(t, ids, 20))
		// On an order still open, each gets its own refusal, and the order stays open.
		open := c.openOrders(t, 1, 5)[0]
		for _, r := range refused {
			if _, err := e.App.Orders.Grab(ctx, c.tn, r.id, open); grabProblem(err) != r.code {
				t.Errorf("%s courier on an open order: %q; want %s", r.who, grabProblem(err), r.code)
			}
		}
	})

	for i, tc := range []struct {
		name, change, want string
	}{
		{"goes offline", `UPDATE courier_profiles SET online = false, online_since = NULL WHERE user_id = ?`, "courier_offline"},
		{"is suspended", `UPDATE courier_profiles SET status = 'suspended', online = false, online_since = NULL,
			decision_reason = 'suspended while grabbing' WHERE user_id = ?`, "courier_suspended"},
		{"drops below the credit floor", `UPDATE courier_profiles SET credit_score = 10 WHERE user_id = ?`, "courier_credit_too_low"},
	} {
		t.Run("courier "+tc.name+" while grabbing", func(t *testing.T) {
			me := c.couriers(t, 10+i, 1, stageOnline)[0]
			const nOrders = 5
			ids := c.openOrders(t, nOrders, uint64(10+i))
			// The change is written directly so that it can be held open; the services'
			// own moves (GoOffline, Suspend) take the same row lock first.
			release := c.holdChange(t, tc.change, me)
			codes := make([]string, nOrders)
			var wg sync.WaitGroup
			for k, id := range ids {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := e.App.Orders.Grab(ctx, c.tn, me, id)
					codes[k] = grabProblem(err)
				}()
			}
			c.waitForLockWaiters(t, nOrders)
			if err := release(); err != nil {
				t.Fatal(err)
			}
			wg.Wait()
			for k, code := range codes {
				if code != tc.want {
					t.Errorf("grab %d: %q; want %s", k, code, tc.want)
				}
			}
			var taken int64
			c.query(t, &taken, `SELECT count(*) FROM orders WHERE id IN ? AND (courier_id IS NOT NULL OR status <> 'awaiting_courier')`, ids)
			if taken != 0 {
				t.Errorf("%d orders were taken by a courier the gate should have refused", taken)
			}
		})
	}
}

// grabCampusEnv is the demo campus seen from the services: its tenant, a staff member who
// approves couriers and a student whose orders fill the hall.
type grabCampusEnv struct {
	env       *apptest.Env
	tn        *tenancy.Tenant
	staffID   string
	studentID string
}

func (e *errandEnv) grabCampus(t *testing.T) *grabCampusEnv {
	return &grabCampusEnv{env: e.Env, tn: e.tenant(t), staffID: e.owner.User.ID, studentID: e.student.User.ID}
}

// grabProblem is the problem code err reaches HTTP with ("" for success), looked up in the
// tables the grab-order operation maps through. An error no table knows would be a 500.
func grabProblem(err error) string {
	if err == nil {
		return ""
	}
	for _, table := range []httpx.ProblemTable{orders.Problems, couriers.Problems} {
		var p *httpx.Problem
		if errors.As(table.Map(err), &p) {
			return p.Code
		}
	}
	return "unmapped error: " + err.Error()
}

// together runs fn(0), ..., fn(n-1) on n goroutines released at the same instant, and
// returns when all have finished.
func together(n int, fn func(i int)) {
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	ready.Add(n)
	done.Add(n)
	for i := range n {
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			fn(i)
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
}

// courierStage is how far a made-up courier gets.
type courierStage int

const (
	stageApplied courierStage = iota // applied, waiting for staff
	stageOnline                      // approved and online, ready to grab
)

// couriers makes n couriers the way real ones come to be, through the services: a user with
// the student role (identity, authz), an application, a staff approval, going online. batch
// keeps phones and student numbers of different calls apart. A few at a time, which keeps a
// 200-courier set-up to seconds on two cores.
func (c *grabCampusEnv) couriers(tb testing.TB, batch, n int, stage courierStage) []string {
	tb.Helper()
	ctx := context.Background()
	app := c.env.App
	ids := make([]string, n)
	var (
		mu    sync.Mutex
		first error
		next  = make(chan int)
		wg    sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if first == nil {
			first = err
		}
	}
	enlist := func(i int) error {
		phone := fmt.Sprintf("136%02d%06d", batch, i)
		err := app.DB.InTenant(ctx, c.tn, func(tx *gorm.DB) error {
			u, _, err := app.Identity.FindOrCreateUser(ctx, tx, c.tn, phone, fmt.Sprintf("跑腿测试%d-%d", batch, i))
			if err != nil {
				return err
			}
			ids[i] = u.ID
			return app.Authz.GrantTx(tx, c.tn, u.ID, authz.RoleStudent)
		})
		if err != nil {
			return fmt.Errorf("user %s: %w", phone, err)
		}
		req := couriers.ApplyRequest{RealName: fmt.Sprintf("跑腿测试%d-%d", batch, i), StudentNo: fmt.Sprintf("G%02d%06d", batch, i)}
		if _, err := app.Couriers.Apply(ctx, c.tn, ids[i], req); err != nil {
			return fmt.Errorf("apply %s: %w", phone, err)
		}
		if stage == stageApplied {
			return nil
		}
		if _, err := app.Couriers.Approve(ctx, c.tn, c.staffID, ids[i], ""); err != nil {
			return fmt.Errorf("approve %s: %w", phone, err)
		}
		if _, err := app.Couriers.GoOnline(ctx, c.tn, ids[i]); err != nil {
			return fmt.Errorf("go online %s: %w", phone, err)
		}
		return nil
	}
	for range min(n, 4) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := enlist(i); err != nil {
					fail(err)
				}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if first != nil {
		tb.Fatal(first)
	}
	return ids
}

// setRules changes the tenant's business rules (settings.Load, change, settings.Save).
func (c *grabCampusEnv) setRules(tb testing.TB, change func(*settings.Business)) {
	tb.Helper()
	err := c.env.App.DB.InTenant(context.Background(), c.tn, func(tx *gorm.DB) error {
		b, err := settings.Load(tx)
		if err != nil {
			return err
		}
		change(&b)
		_, err = settings.Save(tx, b)
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
}

func (c *grabCampusEnv) exec(tb testing.TB, sql string, args ...any) {
	tb.Helper()
	if err := c.env.App.DB.InTenant(context.Background(), c.tn, func(tx *gorm.DB) error {
		return tx.Exec(sql, args...).Error
	}); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
}

func (c *grabCampusEnv) query(tb testing.TB, into any, sql string, args ...any) {
	tb.Helper()
	if err := c.env.App.DB.InTenant(context.Background(), c.tn, func(tx *gorm.DB) error {
		return tx.Raw(sql, args...).Scan(into).Error
	}); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
}

// openOrders writes n paid orders waiting for a courier straight into the tenant's orders
// table, the way the hall finds them after payment: the student's, between random campus
// places (pickups jittered by up to ~50 m), of random task types, paid over the last three
// hours, with rewards that differ. Quoting, creating and paying hundreds or thousands through
// the service would take minutes and measure nothing these tests look at. The form is a real
// ciphertext because a successful grab opens it for the courier.
func (c *grabCampusEnv) openOrders(tb testing.TB, n int, seed uint64) []string {
	tb.Helper()
	ctx := context.Background()
	cipher, err := c.env.App.Keys.For(ctx, c.tn.ID)
	if err != nil {
		tb.Fatal(err)
	}
	form, err := cipher.Encrypt("orders.form", `{"parcel_count":1}`)
	if err != nil {
		tb.Fatal(err)
	}
	var (
		spots []struct {
			Name     string
			Lng, Lat float64
		}
		types []string
	)
	c.query(tb, &spots, `SELECT name, lng, lat FROM places WHERE enabled ORDER BY name`)
	c.query(tb, &types, `SELECT key FROM task_types WHERE enabled ORDER BY key`)
	if len(spots) < 2 || len(types) == 0 {
		tb.Fatalf("the campus has %d places and %d task types", len(spots), len(types))
	}
	rng := rand.New(rand.NewPCG(seed, 0x0d0e))
	now := time.Now().UTC()
	ids := make([]string, 0, n)
	const batch = 500 // × 20 parameters, well under PostgreSQL's 65535
	err = c.env.App.DB.InTenant(ctx, c.tn, func(tx *gorm.DB) error {
		for start := 0; start < n; start += batch {
			var sql strings.Builder
			sql.WriteString(`INSERT INTO orders (id, student_id, task_type, status, pickup_name, pickup_lng, pickup_lat,
				dropoff_name, dropoff_lng, dropoff_lat, size, minutes, form_enc, distance_m, price_lines, total, tip,
				courier_share_bp, quote_id, pay_by, paid_amount, paid_at, created_at, updated_at) VALUES `)
			var args []any
			for k := start; k < min(start+batch, n); k++ {
				from, to := spots[rng.IntN(len(spots))], spots[rng.IntN(len(spots))]
				lng, lat := from.Lng+(rng.Float64()-0.5)*0.001, from.Lat+(rng.Float64()-0.5)*0.001
				dist := int(math.Hypot((to.Lng-lng)*math.Cos(lat*math.Pi/180), to.Lat-lat) * 111_195)
				base, tip := int64(300+rng.IntN(1200)), int64(rng.IntN(6)*100)
				paid := now.Add(-time.Duration(rng.Int64N(int64(3 * time.Hour))))
				created := paid.Add(-time.Minute)
				id := uuid.NewString()
				ids = append(ids, id)
				if k > start {
					sql.WriteString(", ")
				}
				sql.WriteString(`(?, ?, ?, 'awaiting_courier', ?, ?, ?, ?, ?, ?, 'medium', 0, ?, ?, ?::jsonb, ?, ?, 8000, ?, ?, ?, ?, ?, ?)`)
				args = append(args, id, c.studentID, types[rng.IntN(len(types))], from.Name, lng, lat, to.Name, to.Lng, to.Lat,
					form, dist, fmt.Sprintf(`[{"code":"base","amount":%d},{"code":"tip","amount":%d}]`, base, tip), base+tip, tip,
					"bench_"+id, created.Add(15*time.Minute), base+tip, paid, created, paid)
			}
			if err := tx.Exec(sql.String(), args...).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("insert open orders: %v", err)
	}
	return ids
}

// orderAnomalies checks, in SQL, what must hold of every order in ids after couriers raced
// for them, and describes each breach: a taken order has exactly one accept event, by the
// courier who holds it; an open order has none and no courier; no courier carries more than
// maxActive orders.
func (c *grabCampusEnv) orderAnomalies(tb testing.TB, ids []string, maxActive int) []string {
	tb.Helper()
	var rows []struct {
		ID        string
		Status    string
		CourierID string
		Accepts   int
		Actors    string
	}
	c.query(tb, &rows, `SELECT o.id::text, o.status, coalesce(o.courier_id::text, '') AS courier_id,
			count(e.id) AS accepts, coalesce(string_agg(DISTINCT e.actor_id, ','), '') AS actors
		FROM orders o LEFT JOIN order_events e ON e.order_id = o.id AND e.event = 'accept'
		WHERE o.id IN ? GROUP BY o.id`, ids)
	var out []string
	if len(rows) != len(ids) {
		out = append(out, fmt.Sprintf("%d of %d orders found", len(rows), len(ids)))
	}
	for _, r := range rows {
		switch r.Status {
		case "accepted":
			if r.Accepts != 1 || r.Actors != r.CourierID {
				out = append(out, fmt.Sprintf("order %s held by %s has %d accept events by %q", r.ID, r.CourierID, r.Accepts, r.Actors))
			}
		case "awaiting_courier":
			if r.Accepts != 0 || r.CourierID != "" {
				out = append(out, fmt.Sprintf("open order %s has courier %q and %d accept events", r.ID, r.CourierID, r.Accepts))
			}
		default:
			out = append(out, fmt.Sprintf("order %s is %s", r.ID, r.Status))
		}
	}
	var over []struct {
		CourierID string
		N         int
	}
	c.query(tb, &over, `SELECT courier_id::text, count(*) AS n FROM orders WHERE status IN ('accepted', 'picked_up')
		GROUP BY courier_id HAVING count(*) > ?`, maxActive)
	for _, o := range over {
		out = append(out, fmt.Sprintf("courier %s carries %d orders, over the limit of %d", o.CourierID, o.N, maxActive))
	}
	return out
}

// reportAnomalies fails the test with the first few anomalies and how many there were.
func reportAnomalies(t *testing.T, anomalies []string) {
	t.Helper()
	for i, a := range anomalies {
		if i == 10 {
			t.Errorf("... and %d more", len(anomalies)-i)
			return
		}
		t.Error(a)
	}
}

// holdChange runs sql (with args) in a tenant transaction and keeps it open, holding the row
// locks it took, until the returned release commits it (and returns its error). Release runs
// at cleanup too, so a failed test never leaves the transaction, and its connection, hanging.
func (c *grabCampusEnv) holdChange(tb testing.TB, sql string, args ...any) (release func() error) {
	tb.Helper()
	held, commit, result := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		result <- c.env.App.DB.InTenant(context.Background(), c.tn, func(tx *gorm.DB) error {
			if err := tx.Exec(sql, args...).Error; err != nil {
				return err
			}
			close(held)
			<-commit
			return nil
		})
	}()
	select {
	case <-held:
	case err := <-result:
		tb.Fatalf("%s: %v", sql, err)
	}
	var once sync.Once
	var err error
	release = func() error {
		once.Do(func() {
			close(commit)
			err = <-result
		})
		return err
	}
	tb.Cleanup(func() { _ = release() })
	return release
}

// waitForLockWaiters waits until n statements of this test's database are waiting for a lock.
func (c *grabCampusEnv) waitForLockWaiters(tb testing.TB, n int) {
	tb.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var waiting int
		err := c.env.App.DB.Gorm.Raw(`SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting).Error
		if err != nil {
			tb.Fatal(err)
		}
		if waiting >= n {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%d statements wait for a lock after 15s; want %d", waiting, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// grabHall is the test's picture of the task hall: the orders still open, in the order they
// were listed. Couriers pick among the first page, as they do in the app, which is what puts several on
// the same order at once.
type grabHall struct {
	mu   sync.Mutex
	open []string
}

// pick returns a random order of the first page, or false when the hall is empty.
func (h *grabHall) pick(rng *rand.Rand, page int) (string, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.open) == 0 {
		return "", false
	}
	return h.open[rng.IntN(min(page, len(h.open)))], true
}

// drop takes an order out of the hall (someone told us it is taken).
func (h *grabHall) drop(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, o := range h.open {
		if o == id {
			h.open = append(h.open[:i], h.open[i+1:]...)
			return
		}
	}
}
