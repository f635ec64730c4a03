package dispatch_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/dispatch"
	"github.com/paotui/paotui/internal/dispatch/solver"
)

// A batch offers each waiting order to the courier the solver picks, records the batch's
// figures and each offer's explanation, schedules each offer's expiry through the outbox and
// tells each courier after commit.
func TestBatchOffersWithExplanations(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.setMode(t, dispatch.ModeDispatch, "2m", "45s")
	// Greedy sends o1 to a (100 m) and o2 to b (1900 m): 2.0 km. The solver swaps: o1 to b
	// (1000 m), o2 to a (800 m): 1.8 km of travel.
	a := e.courier(t, 100, 1)
	b := e.courier(t, -1000, 1)
	o1 := e.order(t, 0, time.Minute)
	o2 := e.order(t, 900, 30*time.Second)
	now := e.clock.now()

	res := e.run(t)
	if res.Batch.ID == "" || res.Batch.Mode != "dispatch" || res.Batch.Orders != 2 || res.Batch.Couriers != 2 ||
		res.Batch.Assigned != 2 || res.Batch.GreedyAssigned != 2 || !res.Batch.StartedAt.Equal(now) {
		t.Fatalf("batch %+v", res.Batch)
	}
	if !(res.Batch.TotalCost < res.Batch.GreedyCost) {
		t.Errorf("total cost %v, greedy %v: the solver should beat nearest-courier here", res.Batch.TotalCost, res.Batch.GreedyCost)
	}
	first, second := offerOf(t, res, o1), offerOf(t, res, o2)
	if first.CourierID != b || second.CourierID != a {
		t.Fatalf("o1 → %s, o2 → %s; want o1 → b, o2 → a", first.CourierID, second.CourierID)
	}
	for _, o := range res.Offers {
		var sum float64
		var names []string
		for _, term := range o.Explanation {
			sum += term.Value
			names = append(names, term.Name)
		}
		if strings.Join(names, ",") != "distance,idle,load,credit,balance" || math.Abs(sum-o.Cost) > 1e-9 {
			t.Errorf("offer %s: explanation %+v sums to %v, cost %v", o.OfferID, o.Explanation, sum, o.Cost)
		}
		if !o.ExpiresAt.Equal(now.Add(45*time.Second)) || o.Reward != 800 {
			t.Errorf("offer %s expires %v (want %v), reward %d", o.OfferID, o.ExpiresAt, now.Add(45*time.Second), o.Reward)
		}
	}
	if math.Abs(first.Explanation[0].Input-1000) > 0.5 || math.Abs(second.Explanation[0].Input-800) > 0.5 {
		t.Errorf("distances %v and %v, want 1000 and 800", first.Explanation[0].Input, second.Explanation[0].Input)
	}

	// The tables hold the same story.
	if n := e.count(t, `SELECT count(*) FROM dispatch_batches WHERE id = ? AND orders = 2 AND assigned = 2
		AND greedy_cost > total_cost`, res.Batch.ID); n != 1 {
		t.Errorf("batch row not found with its figures")
	}
	for _, o := range res.Offers {
		rows := e.offers(t, o.OrderID)
		if len(rows) != 1 || rows[0].Status != "pending" || rows[0].ID != o.OfferID || !rows[0].ExpiresAt.Equal(o.ExpiresAt) {
			t.Errorf("order %s offers %+v", o.OrderID, rows)
		}
		// One delayed expiry per offer, a second after the deadline, ids only.
		var task struct {
			Queue     string
			ProcessAt time.Time
			Payload   string
			TenantID  int64
		}
		if err := e.db.Gorm.Raw(`SELECT queue, process_at, payload::text AS payload, tenant_id FROM public.outbox
			WHERE task_type = 'dispatch:expire_offer' AND payload->>'offerId' = ?`, o.OfferID).Scan(&task).Error; err != nil {
			t.Fatal(err)
		}
		if task.Queue != "critical" || !task.ProcessAt.Equal(o.ExpiresAt.Add(time.Second)) || task.TenantID != e.tn.ID ||
			task.Payload != `{"offerId": "`+o.OfferID+`"}` {
			t.Errorf("expiry task %+v for offer %s", task, o.OfferID)
		}
	}

	// Each courier hears of their own offer on their own channel.
	got := map[string]dispatch.OfferEvent{}
	for _, ev := range e.pub.take() {
		if ev.Type != dispatch.EventOffer {
			t.Errorf("unexpected event %+v", ev)
			continue
		}
		got[ev.Channel] = ev.Data.(dispatch.OfferEvent)
	}
	if ev := got[dispatch.CourierChannel(e.tn.ID, b)]; ev.OfferID != first.OfferID || ev.OrderID != o1 || ev.Reward != 800 {
		t.Errorf("b heard %+v, want offer %s", ev, first.OfferID)
	}
	if ev := got[dispatch.CourierChannel(e.tn.ID, a)]; ev.OfferID != second.OfferID {
		t.Errorf("a heard %+v, want offer %s", ev, second.OfferID)
	}
	if dispatch.CourierChannel(7, "u") != "t:7:courier:u" || dispatch.AdminChannel(7) != "t:7:admin" {
		t.Errorf("channel names %s %s", dispatch.CourierChannel(7, "u"), dispatch.AdminChannel(7))
	}

	// Orders under offer are not offered again while the offer is pending.
	if again := e.run(t); len(again.Offers) != 0 || again.Batch.Orders != 0 || again.Batch.ID != "" {
		t.Fatalf("second batch %+v", again)
	}
	if n := e.count(t, `SELECT count(*) FROM dispatch_batches`); n != 1 {
		t.Errorf("%d batch rows; batches that offer nothing are not kept", n)
	}

	// Admins read why b got o1: the explanation and the batch it came from.
	views, err := e.svc.OrderDispatch(context.Background(), e.tn, o1)
	if err != nil {
		t.Fatal(err)
	}
	if len(views) != 1 || views[0].ID != first.OfferID || views[0].CourierID != b || views[0].Status != "pending" ||
		views[0].Cost != first.Cost || views[0].Reward != 800 || views[0].DecidedAt != nil {
		t.Fatalf("views %+v", views)
	}
	wantBatch := res.Batch
	if got := views[0].Batch; got.ID != wantBatch.ID || !got.StartedAt.Equal(wantBatch.StartedAt) || got.Mode != wantBatch.Mode ||
		got.Orders != 2 || got.Couriers != 2 || got.Assigned != 2 || got.TotalCost != wantBatch.TotalCost ||
		got.GreedyCost != wantBatch.GreedyCost || got.GreedyAssigned != 2 || got.DurationMs != wantBatch.DurationMs {
		t.Errorf("batch figures %+v, want %+v", got, wantBatch)
	}
	raw, _ := json.Marshal(views[0].Explanation)
	wantRaw, _ := json.Marshal(first.Explanation)
	if string(raw) != string(wantRaw) {
		t.Errorf("stored explanation %s, want %s", raw, wantRaw)
	}
	if _, err := e.svc.OrderDispatch(context.Background(), e.tn, uuid.NewString()); !errors.Is(err, dispatch.ErrOrderNotFound) {
		t.Errorf("unknown order: %v", err)
	}
	if views, err := e.svc.OrderDispatch(context.Background(), e.tn, e.order(t, 0, 0)); err != nil || views == nil || len(views) != 0 {
		t.Errorf("never offered: %v %v", views, err)
	}

	// b's offers, with the order's summary.
	mine, total, err := e.svc.MyOffers(context.Background(), e.tn, b, 20, 0)
	if err != nil || total != 1 || len(mine) != 1 || mine[0].ID != first.OfferID || mine[0].PickupName != "南门快递站" ||
		mine[0].DropoffName != "3号宿舍楼" || mine[0].Reward != 800 || !mine[0].ExpiresAt.Equal(first.ExpiresAt) {
		t.Fatalf("b's offers %+v total %d: %v", mine, total, err)
	}
	if mine, total, err := e.svc.MyOffers(context.Background(), e.tn, e.user(t), 20, 0); err != nil || total != 0 || mine == nil || len(mine) != 0 {
		t.Fatalf("a stranger's offers %v total %d: %v", mine, total, err)
	}
}

// In hybrid mode the hall has an order to itself for the grab window; in grab mode dispatch
// offers nothing.
func TestModes(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.courier(t, 0, 3)
	fresh := e.order(t, 100, time.Minute)
	old := e.order(t, 200, 3*time.Minute)

	// The default mode is grab.
	res, err := e.svc.RunBatch(context.Background(), e.tn)
	if !errors.Is(err, dispatch.ErrDispatchOff) || len(res.Offers) != 0 || res.Batch.Mode != "grab" {
		t.Fatalf("grab mode: %+v %v", res, err)
	}

	e.setMode(t, dispatch.ModeHybrid, "2m", "45s")
	res = e.run(t)
	if len(res.Offers) != 1 || res.Offers[0].OrderID != old || res.Batch.Orders != 1 {
		t.Fatalf("hybrid: offered %+v; want only the order paid 3 min ago", res.Offers)
	}
	e.clock.advance(61 * time.Second)
	res = e.run(t)
	if len(res.Offers) != 1 || res.Offers[0].OrderID != fresh {
		t.Fatalf("hybrid after the window: offered %+v; want the other order", res.Offers)
	}
}

// Accept and decline answer an offer once, by its courier, before its deadline; each refusal
// has its own error.
func TestAnswers(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.setMode(t, dispatch.ModeDispatch, "2m", "30s")
	ctx := context.Background()
	c := e.courier(t, 0, 5)
	other := e.courier(t, 50_000, 5) // too far for any order: never offered one

	offer := func(t *testing.T) (orderID, offerID string) {
		t.Helper()
		orderID = e.order(t, 100, time.Minute)
		return orderID, offerOf(t, e.run(t), orderID).OfferID
	}
	status := func(t *testing.T, orderID string) string {
		t.Helper()
		rows := e.offers(t, orderID)
		return rows[len(rows)-1].Status
	}

	t.Run("accept", func(t *testing.T) {
		orderID, id := offer(t)
		for _, bad := range []struct {
			name, courier, offer string
			want                 error
		}{
			{"another courier's offer", other, id, dispatch.ErrOfferNotYours},
			{"unknown offer", c, uuid.NewString(), dispatch.ErrOfferNotFound},
			{"not an id", c, "nope", dispatch.ErrOfferNotFound},
		} {
			if _, err := e.svc.Accept(ctx, e.tn, bad.courier, bad.offer); !errors.Is(err, bad.want) {
				t.Errorf("%s: %v, want %v", bad.name, err, bad.want)
			}
		}
		got, err := e.svc.Accept(ctx, e.tn, c, id)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != id || got.OrderID != orderID || got.Status != "accepted" || got.PickupName != "南门快递站" {
			t.Errorf("accepted offer %+v", got)
		}
		if n := e.count(t, `SELECT count(*) FROM orders WHERE id = ? AND status = 'accepted' AND courier_id = ?`, orderID, c); n != 1 {
			t.Error("order not assigned to the courier")
		}
		rows := e.offers(t, orderID)
		if rows[0].Status != "accepted" || rows[0].DecidedAt == nil || !rows[0].DecidedAt.Equal(e.clock.now()) {
			t.Errorf("offer %+v", rows[0])
		}
		if _, err := e.svc.Accept(ctx, e.tn, c, id); !errors.Is(err, dispatch.ErrOfferClosed) {
			t.Errorf("accept twice: %v", err)
		}
		if err := e.svc.Decline(ctx, e.tn, c, id, ""); !errors.Is(err, dispatch.ErrOfferClosed) {
			t.Errorf("decline an accepted offer: %v", err)
		}
		if _, err := e.svc.Accept(ctx, e.tn, other, id); !errors.Is(err, dispatch.ErrOfferNotYours) {
			t.Errorf("another courier, closed offer: %v (ownership is checked first)", err)
		}
	})

	t.Run("accept after the deadline expires the offer", func(t *testing.T) {
		orderID, id := offer(t)
		e.clock.advance(30 * time.Second)
		if _, err := e.svc.Accept(ctx, e.tn, c, id); !errors.Is(err, dispatch.ErrOfferExpired) {
			t.Fatalf("late accept: %v", err)
		}
		if s := status(t, orderID); s != "expired" {
			t.Errorf("offer is %s, want expired (kept though the call failed)", s)
		}
		if n := e.count(t, `SELECT count(*) FROM orders WHERE id = ? AND status = 'awaiting_courier'`, orderID); n != 1 {
			t.Error("the order moved")
		}
		if _, err := e.svc.Accept(ctx, e.tn, c, id); !errors.Is(err, dispatch.ErrOfferClosed) {
			t.Errorf("then: %v", err)
		}
		e.setOrderStatus(t, orderID, "cancelled")
	})

	t.Run("decline", func(t *testing.T) {
		orderID, id := offer(t)
		if err := e.svc.Decline(ctx, e.tn, c, id, strings.Repeat("远", 201)); !errors.Is(err, dispatch.ErrReasonTooLong) {
			t.Errorf("201 characters: %v", err)
		}
		if err := e.svc.Decline(ctx, e.tn, other, id, ""); !errors.Is(err, dispatch.ErrOfferNotYours) {
			t.Errorf("another courier: %v", err)
		}
		reason := strings.Repeat("远", 199) + "了"
		if err := e.svc.Decline(ctx, e.tn, c, id, "  "+reason+"\n"); err != nil {
			t.Fatal(err)
		}
		rows := e.offers(t, orderID)
		if rows[0].Status != "declined" || rows[0].DeclineReason != reason || rows[0].DecidedAt == nil {
			t.Errorf("offer %+v", rows[0])
		}
		if err := e.svc.Decline(ctx, e.tn, c, id, ""); !errors.Is(err, dispatch.ErrOfferClosed) {
			t.Errorf("decline twice: %v", err)
		}
		e.setOrderStatus(t, orderID, "cancelled")
	})

	t.Run("decline after the deadline expires the offer", func(t *testing.T) {
		orderID, id := offer(t)
		e.clock.advance(31 * time.Second)
		if err := e.svc.Decline(ctx, e.tn, c, id, "busy"); !errors.Is(err, dispatch.ErrOfferExpired) {
			t.Fatalf("late decline: %v", err)
		}
		if rows := e.offers(t, orderID); rows[0].Status != "expired" || rows[0].DeclineReason != "" {
			t.Errorf("offer %+v", rows[0])
		}
		e.setOrderStatus(t, orderID, "cancelled")
	})

	t.Run("an order that stopped waiting withdraws the offer", func(t *testing.T) {
		orderID, id := offer(t)
		e.setOrderStatus(t, orderID, "cancelled")
		if _, err := e.svc.Accept(ctx, e.tn, c, id); !errors.Is(err, errTaken) {
			t.Fatalf("accept a cancelled order: %v, want the orders domain's error", err)
		}
		if s := status(t, orderID); s != "withdrawn" {
			t.Errorf("offer is %s, want withdrawn", s)
		}
	})

	t.Run("a courier the gate refuses keeps the offer open", func(t *testing.T) {
		orderID, id := offer(t)
		errGate := errors.New("courier is offline")
		e.orders.setRefusal(c, errGate)
		_, err := e.svc.Accept(ctx, e.tn, c, id)
		e.orders.setRefusal(c, nil)
		if !errors.Is(err, errGate) {
			t.Fatalf("accept: %v, want the gate's error", err)
		}
		if s := status(t, orderID); s != "pending" {
			t.Errorf("offer is %s, want pending", s)
		}
		if _, err := e.svc.Accept(ctx, e.tn, c, id); err != nil {
			t.Fatalf("accept once back online: %v", err)
		}
	})

	t.Run("expire", func(t *testing.T) {
		orderID, id := offer(t)
		e.pub.take()
		if err := e.svc.ExpireOffer(ctx, e.tn, id); err != nil {
			t.Fatal(err)
		}
		if s := status(t, orderID); s != "pending" {
			t.Fatalf("expired early: %s", s)
		}
		e.clock.advance(31 * time.Second)
		for range 2 {
			if err := e.svc.ExpireOffer(ctx, e.tn, id); err != nil {
				t.Fatal(err)
			}
		}
		if s := status(t, orderID); s != "expired" {
			t.Fatalf("offer is %s, want expired", s)
		}
		evs := e.pub.take()
		if len(evs) != 1 || evs[0].Channel != dispatch.CourierChannel(e.tn.ID, c) || evs[0].Type != dispatch.EventOfferClosed ||
			evs[0].Data != (dispatch.OfferClosedEvent{OfferID: id, OrderID: orderID, Status: "expired"}) {
			t.Errorf("events %+v, want one offer_closed to the courier", evs)
		}
		if err := e.svc.ExpireOffer(ctx, e.tn, uuid.NewString()); err != nil {
			t.Errorf("unknown offer: %v", err)
		}
		e.setOrderStatus(t, orderID, "cancelled")
	})
}

// A courier who declined an order, or let its offer expire, is never offered it again; the
// order goes to the next courier, and when nobody is left it waits.
func TestRefusalsAreFinal(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.setMode(t, dispatch.ModeDispatch, "2m", "20s")
	ctx := context.Background()
	near := e.courier(t, 100, 2)
	far := e.courier(t, 1500, 2)
	orderID := e.order(t, 0, time.Minute)

	first := offerOf(t, e.run(t), orderID)
	if first.CourierID != near {
		t.Fatalf("first offer to %s, want the near courier", first.CourierID)
	}
	if err := e.svc.Decline(ctx, e.tn, near, first.OfferID, "车没电了"); err != nil {
		t.Fatal(err)
	}
	second := offerOf(t, e.run(t), orderID)
	if second.CourierID != far {
		t.Fatalf("second offer to %s, want the far courier", second.CourierID)
	}
	// The far courier lets it expire; the batch closes the overdue offer itself (as if the
	// delayed task were lost) and then has nobody left to offer it to.
	e.clock.advance(20 * time.Second)
	res := e.run(t)
	if res.Closed != 1 || len(res.Offers) != 0 || res.Batch.Orders != 1 || res.Batch.Couriers != 2 || res.Batch.Assigned != 0 {
		t.Fatalf("third batch %+v", res)
	}
	rows := e.offers(t, orderID)
	if len(rows) != 2 || rows[0].Status != "declined" || rows[0].DeclineReason != "车没电了" || rows[1].Status != "expired" {
		t.Fatalf("offers %+v", rows)
	}

	// Another order still reaches both.
	other := e.order(t, 0, 0)
	if o := offerOf(t, e.run(t), other); o.CourierID != near {
		t.Errorf("the next order went to %s, want the near courier", o.CourierID)
	}
	views, err := e.svc.OrderDispatch(ctx, e.tn, orderID)
	if err != nil || len(views) != 2 || views[0].DeclineReason != "车没电了" || views[1].Status != "expired" ||
		views[0].Batch.ID == views[1].Batch.ID {
		t.Fatalf("history %+v: %v", views, err)
	}
}

// A pending offer holds one of the courier's slots until it is answered; an offer whose order
// stopped waiting is withdrawn by the next batch, which frees the slot.
func TestPendingOffersCountAsLoad(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.setMode(t, dispatch.ModeDispatch, "2m", "45s")
	c := e.courier(t, 0, 1)
	o1 := e.order(t, 100, time.Minute)
	offerOf(t, e.run(t), o1)

	o2 := e.order(t, 100, 0)
	if res := e.run(t); len(res.Offers) != 0 || res.Batch.Orders != 1 {
		t.Fatalf("a courier with room for one got a second offer: %+v", res)
	}
	// The student cancels o1: the next batch withdraws its offer, tells the courier and
	// offers o2 in the freed slot.
	e.setOrderStatus(t, o1, "cancelled")
	e.pub.take()
	res := e.run(t)
	if res.Closed != 1 || offerOf(t, res, o2).CourierID != c {
		t.Fatalf("after the cancel: %+v", res)
	}
	if rows := e.offers(t, o1); rows[0].Status != "withdrawn" {
		t.Errorf("o1's offer is %s, want withdrawn", rows[0].Status)
	}
	var closed, offered int
	for _, ev := range e.pub.take() {
		switch {
		case ev.Type == dispatch.EventOfferClosed && ev.Data.(dispatch.OfferClosedEvent).Status == "withdrawn":
			closed++
		case ev.Type == dispatch.EventOffer:
			offered++
		}
	}
	if closed != 1 || offered != 1 {
		t.Errorf("%d withdrawals and %d offers published, want 1 and 1", closed, offered)
	}
}

// Batches of one tenant running at once never offer one order twice, nor overload a courier.
func TestConcurrentBatchesNeverDoubleOffer(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.setMode(t, dispatch.ModeDispatch, "2m", "45s")
	for i := range 12 {
		e.courier(t, float64(i*150), 2)
	}
	for i := range 30 {
		e.order(t, float64(i*60), time.Minute)
	}
	const workers = 6
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	offers := make(chan int, workers)
	for range workers {
		wg.Go(func() {
			res, err := e.svc.RunBatch(context.Background(), e.tn)
			errs <- err
			offers <- len(res.Offers)
		})
	}
	wg.Wait()
	close(errs)
	close(offers)
	for err := range errs {
		if err != nil {
			t.Errorf("batch: %v", err)
		}
	}
	total := 0
	for n := range offers {
		total += n
	}
	// 12 couriers with room for 2: 24 of the 30 orders are offered, each once.
	if total != 24 {
		t.Errorf("%d offers made, want 24", total)
	}
	if n := e.count(t, `SELECT count(*) FROM (SELECT order_id FROM dispatch_offers GROUP BY order_id HAVING count(*) > 1) x`); n != 0 {
		t.Errorf("%d orders offered more than once", n)
	}
	if n := e.count(t, `SELECT count(*) FROM (SELECT courier_id FROM dispatch_offers GROUP BY courier_id HAVING count(*) > 2) x`); n != 0 {
		t.Errorf("%d couriers got more offers than their room", n)
	}
	if n := e.count(t, `SELECT count(*) FROM dispatch_offers`); n != 24 {
		t.Errorf("%d offers stored, want 24", n)
	}
}

// An order waiting past the tenant's WaitingAlert alerts the admin feed once, in every mode,
// and the alert is cleared when the order is taken.
func TestAlertsOncePerOrder(t *testing.T) {
	t.Parallel()
	e := setup(t) // grab mode: alerts still run
	ctx := context.Background()
	late := e.order(t, 0, 4*time.Minute)
	recent := e.order(t, 0, time.Minute)
	taken := e.order(t, 0, 10*time.Minute)
	e.setOrderStatus(t, taken, "accepted")

	n, err := e.svc.Alerts(ctx, e.tn, e.clock.now())
	if err != nil || n != 1 {
		t.Fatalf("raised %d: %v", n, err)
	}
	evs := e.pub.take()
	if len(evs) != 1 || evs[0].Channel != dispatch.AdminChannel(e.tn.ID) || evs[0].Type != dispatch.EventOrderWaiting ||
		evs[0].Data != (dispatch.OrderWaitingEvent{OrderID: late, WaitingSeconds: 240}) {
		t.Fatalf("events %+v", evs)
	}
	if n, err := e.svc.Alerts(ctx, e.tn, e.clock.now()); err != nil || n != 0 || len(e.pub.take()) != 0 {
		t.Fatalf("second run raised %d: %v", n, err)
	}

	// Two minutes on, the recent order has waited three; runs racing raise it once.
	e.clock.advance(2 * time.Minute)
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for range 4 {
		wg.Go(func() {
			n, err := e.svc.Alerts(ctx, e.tn, e.clock.now())
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			total += n
			mu.Unlock()
		})
	}
	wg.Wait()
	if total != 1 {
		t.Fatalf("concurrent runs raised %d alerts, want 1", total)
	}
	if evs := e.pub.take(); len(evs) != 1 || evs[0].Data.(dispatch.OrderWaitingEvent).OrderID != recent {
		t.Fatalf("events %+v", evs)
	}

	// Taken orders' alerts are cleared: by the next run, or at once through ClearAlert.
	e.setOrderStatus(t, late, "accepted")
	if _, err := e.svc.Alerts(ctx, e.tn, e.clock.now()); err != nil {
		t.Fatal(err)
	}
	e.must(t, func(tx *gorm.DB) error { return dispatch.ClearAlert(tx, recent) })
	if n := e.count(t, `SELECT count(*) FROM dispatch_alerts WHERE cleared_at IS NOT NULL`); n != 2 {
		t.Errorf("%d alerts cleared, want 2", n)
	}
	if n := e.count(t, `SELECT count(*) FROM dispatch_alerts WHERE order_id = ?`, taken); n != 0 {
		t.Error("an order taken before the alert delay alerted")
	}
	// Back in the queue, an order that alerted once does not alert again.
	e.setOrderStatus(t, late, "awaiting_courier")
	if n, err := e.svc.Alerts(ctx, e.tn, e.clock.now()); err != nil || n != 0 {
		t.Fatalf("re-queued order raised %d: %v", n, err)
	}
}

// Declines and expiries count against a courier's acceptance rate; withdrawals and pending
// offers do not.
func TestAcceptanceRate(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.setMode(t, dispatch.ModeDispatch, "2m", "30s")
	ctx := context.Background()
	c := e.courier(t, 0, 1)
	start := e.clock.now()
	answer := func(fn func(offerID string)) string {
		orderID := e.order(t, 0, time.Minute)
		fn(offerOf(t, e.run(t), orderID).OfferID)
		return orderID
	}
	done := answer(func(id string) {
		if _, err := e.svc.Accept(ctx, e.tn, c, id); err != nil {
			t.Fatal(err)
		}
	})
	e.setOrderStatus(t, done, "completed") // frees the courier's slot
	answer(func(id string) {
		if err := e.svc.Decline(ctx, e.tn, c, id, ""); err != nil {
			t.Fatal(err)
		}
	})
	answer(func(id string) {
		e.clock.advance(31 * time.Second)
		if err := e.svc.ExpireOffer(ctx, e.tn, id); err != nil {
			t.Fatal(err)
		}
	})
	withdrawn := answer(func(string) {})
	e.setOrderStatus(t, withdrawn, "cancelled")
	e.run(t) // withdraws it

	answer(func(string) {}) // left pending
	if n := e.count(t, `SELECT count(*) FROM dispatch_offers WHERE courier_id = ?`, c); n != 5 {
		t.Fatalf("%d offers, want 5", n)
	}

	rate := func(since time.Time) (int, int) {
		var offered, accepted int
		e.must(t, func(tx *gorm.DB) error {
			var err error
			offered, accepted, err = dispatch.AcceptanceRate(tx, c, since)
			return err
		})
		return offered, accepted
	}
	if offered, accepted := rate(start); offered != 3 || accepted != 1 {
		t.Errorf("rate %d/%d, want 1 accepted of 3 answered", accepted, offered)
	}
	if offered, accepted := rate(e.clock.now().Add(time.Hour)); offered != 0 || accepted != 0 {
		t.Errorf("rate since later %d/%d, want 0/0", accepted, offered)
	}
}

// Couriers' positions may be anything a phone reports; a bad fix makes a courier unreachable
// for this batch, never fails it.
func TestBadPositionsDoNotFailABatch(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.setMode(t, dispatch.ModeDispatch, "2m", "45s")
	lost := e.user(t)
	e.couriers.add(solver.Courier{ID: lost, At: solver.Point{Lng: math.NaN(), Lat: 500}, MaxLoad: 3, Credit: 100})
	e.couriers.add(solver.Courier{ID: "not-a-uuid", At: campus, MaxLoad: 3, Credit: 100})
	good := e.courier(t, 500, 1)
	o := e.order(t, 0, time.Minute)
	res := e.run(t)
	if offerOf(t, res, o).CourierID != good || res.Batch.Couriers != 2 {
		t.Fatalf("batch %+v", res)
	}
}
