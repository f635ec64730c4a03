package couriers_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/couriers"
	"github.com/paotui/paotui/internal/ledger"
	"github.com/paotui/paotui/internal/ledger/ledgertest"
)

func TestCandidates(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	loc := shanghai(t)

	a := e.courier(t, couriers.Approved, true)
	b := e.courier(t, couriers.Approved, true)
	e.setCredit(t, b, 40)
	// f was last active two hours before coming online: the break does not count as idle.
	f := e.courier(t, couriers.Approved, false)
	e.in(t, func(tx *gorm.DB) error { return couriers.Touch(tx, f, time.Now().Add(-2*time.Hour)) })
	if _, err := e.svc.GoOnline(ctx, e.tn, f); err != nil {
		t.Fatal(err)
	}
	offline := e.courier(t, couriers.Approved, false)
	suspended := e.courier(t, couriers.Suspended, false)
	pending := e.courier(t, couriers.Pending, false)
	_ = e.courier(t, couriers.Rejected, false)

	// Load: a carries two orders, b one; finished, open and other couriers' orders do not count.
	for _, o := range []order{
		{courier: a, status: "accepted"}, {courier: a, status: "picked_up"}, {courier: a, status: "delivered"},
		{courier: a, status: "completed"}, {courier: a, status: "cancelled"}, {status: "awaiting_courier"},
		{courier: b, status: "accepted"}, {courier: offline, status: "accepted"},
	} {
		e.insertOrder(t, o)
	}

	// Income: today's settlement and a staff bonus count; yesterday's settlement, a payout and
	// another courier's income do not.
	now := time.Now()
	n := now.In(loc)
	midnight := time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, loc)
	settled := func(courier string, earned int64, at time.Time) {
		id, _ := e.insertOrder(t, order{courier: courier, status: "completed", completed: at})
		e.backdate(t, e.settle(t, id, courier, earned+200, earned), at)
	}
	settled(a, 500, midnight.Add(-time.Second))
	settled(a, 800, midnight)
	settled(b, 999, midnight.Add(time.Minute))
	e.backdate(t, e.post(t, ledger.Journal{Kind: ledger.Adjustment, Memo: "雨天补贴", Actor: "test", Entries: []ledger.Entry{
		{Account: ledger.Revenue(), Amount: -50}, {Account: ledger.Earnings(a), Amount: 50}}}), midnight.Add(time.Minute))
	e.backdate(t, e.post(t, ledger.Journal{Kind: ledger.Withdrawal, Actor: "test", Entries: []ledger.Entry{
		{Account: ledger.Earnings(a), Amount: -300}, {Account: ledger.Clearing("bank"), Amount: 300}}}), midnight.Add(2*time.Minute))
	// a took an order after coming online.
	touched := time.Now().UTC().Truncate(time.Microsecond)
	e.in(t, func(tx *gorm.DB) error { return couriers.Touch(tx, a, touched) })
	onlineSince := func(u string) time.Time {
		var at time.Time
		e.in(t, func(tx *gorm.DB) error {
			return tx.Raw(`SELECT online_since FROM courier_profiles WHERE user_id = ?`, u).Row().Scan(&at)
		})
		return at
	}

	want := map[string]couriers.Candidate{
		a: {UserID: a, Credit: 100, IdleSince: touched, Load: 2, EarnedToday: 850},
		b: {UserID: b, Credit: 40, IdleSince: onlineSince(b), Load: 1, EarnedToday: 999},
		f: {UserID: f, Credit: 100, IdleSince: onlineSince(f), Load: 0, EarnedToday: 0},
	}
	for _, tc := range []struct {
		name      string
		minCredit int
		want      []string
	}{
		{"everyone eligible", 0, []string{a, b, f}},
		{"credit floor at b's score", 40, []string{a, b, f}},
		{"credit floor above b's score", 41, []string{a, f}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []couriers.Candidate
			e.in(t, func(tx *gorm.DB) error {
				var err error
				got, err = couriers.CandidatesAt(tx, tc.minCredit, now)
				return err
			})
			ids := slices.Sorted(slices.Values(tc.want))
			if len(got) != len(ids) {
				t.Fatalf("got %d candidates %+v, want %v (not %s, %s, %s)", len(got), got, ids, offline, suspended, pending)
			}
			for i, c := range got {
				w := want[ids[i]]
				if c.UserID != w.UserID || c.Credit != w.Credit || c.Load != w.Load || c.EarnedToday != w.EarnedToday || !c.IdleSince.Equal(w.IdleSince) {
					t.Errorf("candidate %d = %+v, want %+v", i, c, w)
				}
			}
		})
	}
	t.Run("Candidates uses the clock", func(t *testing.T) {
		e.in(t, func(tx *gorm.DB) error {
			got, err := couriers.Candidates(tx, 41)
			if err != nil {
				return err
			}
			ids := []string{}
			for _, c := range got {
				ids = append(ids, c.UserID)
			}
			if !slices.Equal(ids, slices.Sorted(slices.Values([]string{a, f}))) {
				t.Errorf("Candidates(41) = %v", ids)
			}
			return nil
		})
	})
	ledgertest.RequireClean(t, e.db, e.tn)
}

func TestEarnings(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	loc := shanghai(t)
	at := func(month time.Month, day, h, m, s int) time.Time {
		return time.Date(2026, month, day, h, m, s, 0, loc)
	}
	// Wednesday 10 June 2026, 09:00 in Shanghai: today began at 00:00, the week on Monday 8
	// June, the month on 1 June. In UTC it is 01:00, so a UTC day would start eight hours late.
	now := at(time.June, 10, 9, 0, 0)
	e.svc.SetClock(func() time.Time { return now })

	c := e.courier(t, couriers.Approved, false)
	other := e.courier(t, couriers.Approved, false)

	// Settlements just either side of each boundary, posted oldest first (the list is in
	// posting order, as it is when history is not backdated).
	type settlement struct {
		at     time.Time
		earned int64
		id     string
		number int64
	}
	settlements := []*settlement{
		{at: at(time.May, 31, 23, 59, 59), earned: 3200},
		{at: at(time.June, 1, 0, 0, 0), earned: 1600},
		{at: at(time.June, 7, 23, 59, 59), earned: 800}, // Sunday
		{at: at(time.June, 8, 0, 0, 0), earned: 400},    // Monday
		{at: at(time.June, 9, 23, 59, 59), earned: 200},
		{at: at(time.June, 10, 0, 0, 0), earned: 100},
	}
	for _, s := range settlements {
		s.id, s.number = e.insertOrder(t, order{courier: c, status: "completed", completed: s.at.Add(-time.Minute)})
		e.backdate(t, e.settle(t, s.id, c, s.earned+100, s.earned), s.at)
	}
	e.backdate(t, e.post(t, ledger.Journal{Kind: ledger.Adjustment, Memo: "投诉扣款", Actor: "test", Entries: []ledger.Entry{
		{Account: ledger.Earnings(c), Amount: -50}, {Account: ledger.Revenue(), Amount: 50}}}), at(time.June, 10, 8, 0, 0))
	e.backdate(t, e.post(t, ledger.Journal{Kind: ledger.Withdrawal, Actor: "test", Entries: []ledger.Entry{
		{Account: ledger.Earnings(c), Amount: -1000}, {Account: ledger.Clearing("bank"), Amount: 1000}}}), at(time.June, 10, 8, 30, 0))
	otherOrder, _ := e.insertOrder(t, order{courier: other, status: "completed", completed: now})
	e.backdate(t, e.settle(t, otherOrder, other, 10000, 9999), at(time.June, 10, 8, 0, 0))

	// Punctuality: T is when each order was accepted.
	T := at(time.June, 9, 10, 0, 0)
	onTime := []order{
		{courier: c, status: "delivered", accepted: T, windowEnd: T.Add(3 * time.Hour), delivered: T.Add(2 * time.Hour)}, // by the window, late by the hour rule
		{courier: c, status: "completed", accepted: T, delivered: T.Add(59 * time.Minute), completed: T.Add(2 * time.Hour)},
		{courier: c, status: "delivered", accepted: T, delivered: T.Add(60 * time.Minute)},
	}
	late := []order{
		{courier: c, status: "delivered", accepted: T, windowEnd: T.Add(time.Hour), delivered: T.Add(time.Hour + time.Minute)},
		{courier: c, status: "delivered", accepted: T, delivered: T.Add(61 * time.Minute)},
	}
	var reviewed []string
	for _, o := range slices.Concat(onTime, late) {
		id, _ := e.insertOrder(t, o)
		reviewed = append(reviewed, id)
	}
	e.insertOrder(t, order{courier: c, status: "accepted", accepted: T}) // not delivered: not judged
	e.insertOrder(t, order{courier: other, status: "delivered", accepted: T, delivered: T.Add(5 * time.Hour)})
	review := func(orderID, courier string, rating int) {
		e.in(t, func(tx *gorm.DB) error {
			return tx.Exec(`INSERT INTO order_reviews (order_id, student_id, courier_id, rating)
				SELECT id, student_id, ?, ? FROM orders WHERE id = ?`, courier, rating, orderID).Error
		})
	}
	review(reviewed[0], c, 5)
	review(reviewed[1], c, 4)
	review(settlements[0].id, c, 4)
	review(otherOrder, other, 1)

	ratingAvg, rate := 4.33, 0.6
	wantStats := couriers.CourierStats{
		Balance:  3200 + 1600 + 800 + 400 + 200 + 100 - 50 - 1000,
		Today:    100 - 50,
		Week:     100 - 50 + 200 + 400,
		Month:    100 - 50 + 200 + 400 + 800 + 1600,
		TimeZone: "Asia/Shanghai", CompletedOrders: 7, RatingAverage: &ratingAvg, RatingCount: 3,
		DeliveredOrders: 5, OnTimeOrders: 3, OnTimeRate: &rate,
	}

	t.Run("figures", func(t *testing.T) {
		got, err := e.svc.Earnings(ctx, e.tn, c, couriers.EarningsQuery{})
		if err != nil {
			t.Fatal(err)
		}
		checkStats(t, got.CourierStats, wantStats)
		d, err := e.svc.Detail(ctx, e.tn, c)
		if err != nil {
			t.Fatal(err)
		}
		checkStats(t, d.Stats, wantStats)
	})

	t.Run("income per order, newest first, paged", func(t *testing.T) {
		var pages [][]couriers.CourierIncome
		var before int64
		for range 3 {
			got, err := e.svc.Earnings(ctx, e.tn, c, couriers.EarningsQuery{Limit: 4, Before: before})
			if err != nil {
				t.Fatal(err)
			}
			pages = append(pages, got.Items)
			if got.NextBefore == 0 {
				break
			}
			before = got.NextBefore
		}
		if len(pages) != 2 || len(pages[0]) != 4 || len(pages[1]) != 2 {
			t.Fatalf("page sizes %d", len(pages))
		}
		all := slices.Concat(pages...)
		for i, in := range all {
			s := settlements[len(settlements)-1-i]
			o := s.at.Add(-time.Minute)
			if in.OrderID != s.id || in.Amount != ledger.Money(s.earned) || in.OrderNumber != fmt.Sprintf("P%06d", s.number) ||
				in.TaskType != "parcel_pickup" || in.CompletedAt == nil || !in.CompletedAt.Equal(o) || !in.CreditedAt.Equal(s.at) {
				t.Errorf("item %d = %+v; want order %s (P%06d), %d 分, completed %v, credited %v", i, in, s.id, s.number, s.earned, o, s.at)
			}
		}
	})

	t.Run("a courier with no history", func(t *testing.T) {
		got, err := e.svc.Earnings(ctx, e.tn, e.user(t), couriers.EarningsQuery{})
		if err != nil {
			t.Fatal(err)
		}
		checkStats(t, got.CourierStats, couriers.CourierStats{TimeZone: "Asia/Shanghai"})
		if got.Items == nil || len(got.Items) != 0 || got.NextBefore != 0 {
			t.Errorf("items %#v, next %d", got.Items, got.NextBefore)
		}
	})

	// Last: it changes the tenant's zone. In UTC the day starts at 08:00 Shanghai time.
	t.Run("periods follow the tenant's time zone", func(t *testing.T) {
		e.in(t, func(tx *gorm.DB) error {
			return tx.Exec(`INSERT INTO settings (key, value) VALUES ('timezone', '"UTC"')`).Error
		})
		got, err := e.svc.Earnings(ctx, e.tn, c, couriers.EarningsQuery{})
		if err != nil {
			t.Fatal(err)
		}
		want := wantStats
		want.TimeZone = "UTC"
		want.Today = -50
		want.Week = -50 + 100 + 200
		want.Month = -50 + 100 + 200 + 400 + 800
		checkStats(t, got.CourierStats, want)
	})
	ledgertest.RequireClean(t, e.db, e.tn)
}

func checkStats(t *testing.T, got, want couriers.CourierStats) {
	t.Helper()
	deref := func(p *float64) string {
		if p == nil {
			return "nil"
		}
		return fmt.Sprint(*p)
	}
	g := map[string]any{"balance": got.Balance, "today": got.Today, "week": got.Week, "month": got.Month, "zone": got.TimeZone,
		"completed": got.CompletedOrders, "rating": deref(got.RatingAverage), "ratings": got.RatingCount,
		"delivered": got.DeliveredOrders, "onTime": got.OnTimeOrders, "rate": deref(got.OnTimeRate)}
	w := map[string]any{"balance": want.Balance, "today": want.Today, "week": want.Week, "month": want.Month, "zone": want.TimeZone,
		"completed": want.CompletedOrders, "rating": deref(want.RatingAverage), "ratings": want.RatingCount,
		"delivered": want.DeliveredOrders, "onTime": want.OnTimeOrders, "rate": deref(want.OnTimeRate)}
	if !maps.Equal(g, w) {
		t.Errorf("stats\n got %v\nwant %v", g, w)
	}
}
