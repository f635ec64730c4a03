package plans_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/authz"
	"github.com/paotui/paotui/internal/platform/plans"
	"github.com/paotui/paotui/internal/store"
	"github.com/paotui/paotui/internal/store/storetest"
)

// Usage is counted in a real tenant schema: orders of the tenant's month (its time zone,
// unpaid endings excluded), approved couriers, staff seats through authz, custom domains.
func TestUsageCounts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, d := storetest.New(t)
	opt, err := redis.ParseURL(storetest.Redis(t))
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	az, err := authz.New(db, rdb, nil)
	if err != nil {
		t.Fatal(err)
	}
	tn := newTenant(t, db, "usage")
	if _, _, err := store.NewMigrator(d.URL, 1, nil).UpTenant(ctx, tn.Schema); err != nil {
		t.Fatal(err)
	}
	s := plans.NewService(db, az)
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	// Half past midnight on 1 March in Shanghai is still February in UTC.
	now := time.Date(2025, 3, 1, 0, 30, 0, 0, shanghai)
	plans.SetClock(s, func() time.Time { return now })

	users := make([]string, 6)
	in := func(fn func(tx *gorm.DB) error) {
		t.Helper()
		if err := db.InTenant(ctx, tn, fn); err != nil {
			t.Fatal(err)
		}
	}
	in(func(tx *gorm.DB) error {
		for i := range users {
			users[i] = uuid.NewString()
			if err := tx.Exec(`INSERT INTO users (id, phone_enc, phone_bidx) VALUES (?, ?, ?)`,
				users[i], []byte("x"), []byte(fmt.Sprint("bidx", i))).Error; err != nil {
				return err
			}
		}
		if err := tx.Exec(`INSERT INTO task_types (key, name_zh, name_en, sort, pricing) VALUES ('errand', '跑腿', 'Errand', 1, '{}')`).Error; err != nil {
			return err
		}
		utc := func(s string) time.Time { v, _ := time.Parse(time.RFC3339, s); return v }
		paid := utc("2025-02-28T16:00:00Z")
		for i, o := range []struct {
			status  string
			created time.Time
			paidAt  *time.Time
		}{
			{"completed", utc("2025-02-28T16:10:00Z"), &paid},        // 00:10 on 1 March in Shanghai: counts
			{"completed", utc("2025-02-28T15:50:00Z"), &paid},        // 23:50 on 28 February: last month
			{"expired", utc("2025-02-28T16:20:00Z"), nil},            // never paid
			{"cancelled", utc("2025-02-28T16:21:00Z"), nil},          // cancelled before paying
			{"cancelled", utc("2025-02-28T16:22:00Z"), &paid},        // paid, then cancelled: counts
			{"awaiting_payment", utc("2025-02-28T16:23:00Z"), nil},   // may still be paid: counts
			{"refunded", utc("2025-02-28T16:24:00Z"), &paid},         // counts
			{"awaiting_courier", utc("2025-01-31T15:59:00Z"), &paid}, // January in Shanghai
		} {
			err := tx.Exec(`INSERT INTO orders (id, student_id, task_type, status, pickup_name, pickup_lng, pickup_lat,
					dropoff_name, dropoff_lng, dropoff_lat, form_enc, distance_m, price_lines, total, courier_share_bp, quote_id,
					pay_by, paid_at, created_at)
				VALUES (?, ?, 'errand', ?, 'A', 120, 30, 'B', 120, 30, ?, 100, '[]', 500, 8000, ?, ?, ?, ?)`,
				uuid.NewString(), users[0], o.status, []byte("x"), fmt.Sprint("q", i), o.created.Add(15*time.Minute), o.paidAt, o.created).Error
			if err != nil {
				return err
			}
		}
		for i, st := range []string{"approved", "approved", "pending", "suspended", "rejected"} {
			if err := tx.Exec(`INSERT INTO courier_profiles (user_id, status, real_name_enc, student_no_enc, student_no_bidx)
				VALUES (?, ?, ?, ?, ?)`, users[i], st, []byte("x"), []byte("x"), []byte(fmt.Sprint("sn", i))).Error; err != nil {
				return err
			}
		}
		for _, g := range []struct{ user, role string }{
			{users[0], authz.RoleOwner}, {users[1], authz.RoleAdmin}, {users[1], authz.RoleFinance},
			{users[2], authz.RoleCourier}, {users[3], authz.RoleStudent}, {users[4], authz.RoleDispatcher},
		} {
			if err := az.GrantTx(tx, tn, g.user, g.role); err != nil {
				return err
			}
		}
		return nil
	})
	if err := db.Gorm.Exec(`INSERT INTO public.tenant_domains (domain, tenant_id, txt_token) VALUES ('usage.example-school.cn', ?, 't')`, tn.ID).Error; err != nil {
		t.Fatal(err)
	}

	want := map[plans.Kind]int64{plans.KindOrdersPerMonth: 4, plans.KindActiveCouriers: 2, plans.KindStaffSeats: 3, plans.KindCustomDomains: 1}
	for k, n := range want {
		if got, err := s.Count(ctx, tn, k); err != nil || got != n {
			t.Errorf("Count(%s) = %d, %v; want %d", k, got, err, n)
		}
	}

	u, err := s.Usage(ctx, tn)
	if err != nil {
		t.Fatal(err)
	}
	if u.Plan != nil || !u.PeriodStart.Equal(time.Date(2025, 3, 1, 0, 0, 0, 0, shanghai)) {
		t.Errorf("plan %+v, period %s", u.Plan, u.PeriodStart)
	}
	if len(u.Items) != len(plans.Kinds) {
		t.Fatalf("items %+v", u.Items)
	}
	for i, it := range u.Items {
		if it.Kind != plans.Kinds[i] || it.Used != want[it.Kind] || it.Max != nil {
			t.Errorf("item %d: %+v", i, it)
		}
	}

	// On a plan, the items carry its maxima; a missing feature is a maximum of 0.
	if err := s.SetTenantPlan(ctx, tn.ID, "campus", "platform:x", ""); err != nil {
		t.Fatal(err)
	}
	if u, err = s.Usage(ctx, tn); err != nil || u.Plan == nil || u.Plan.ID != "campus" {
		t.Fatalf("usage on campus: %+v %v", u, err)
	}
	maxes := map[plans.Kind]int64{plans.KindOrdersPerMonth: 300, plans.KindActiveCouriers: 10, plans.KindStaffSeats: 3, plans.KindCustomDomains: 0}
	for _, it := range u.Items {
		if it.Max == nil || *it.Max != maxes[it.Kind] {
			t.Errorf("%s: max %v; want %d", it.Kind, it.Max, maxes[it.Kind])
		}
	}
	// Three seats are taken of three: the next grant is refused, a courier approval is not.
	var le *plans.LimitError
	if err := s.Allow(ctx, tn, plans.KindStaffSeats); !errors.As(err, &le) || le.Current != 3 || le.Upgrade == nil || le.Upgrade.ID != "pro" {
		t.Errorf("Allow(staff seats) = %v", err)
	}
	if err := s.Allow(ctx, tn, plans.KindActiveCouriers); err != nil {
		t.Errorf("Allow(couriers) = %v", err)
	}

	// The month follows the tenant's time zone setting.
	in(func(tx *gorm.DB) error {
		return tx.Exec(`INSERT INTO settings (key, value) VALUES ('timezone', '"UTC"')`).Error
	})
	if got, err := s.Count(ctx, tn, plans.KindOrdersPerMonth); err != nil || got != 5 {
		t.Errorf("orders of February in UTC = %d, %v; want 5", got, err)
	}
}

func TestMonthStart(t *testing.T) {
	t.Parallel()
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	cases := []struct {
		now  time.Time
		loc  *time.Location
		want time.Time
	}{
		{time.Date(2025, 2, 28, 16, 0, 0, 0, time.UTC), shanghai, time.Date(2025, 3, 1, 0, 0, 0, 0, shanghai)},
		{time.Date(2025, 2, 28, 15, 59, 59, 0, time.UTC), shanghai, time.Date(2025, 2, 1, 0, 0, 0, 0, shanghai)},
		{time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.UTC, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)},
		{time.Date(2024, 12, 31, 23, 59, 0, 0, time.UTC), time.UTC, time.Date(2024, 12, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, tc := range cases {
		if got := plans.MonthStart(tc.now, tc.loc); !got.Equal(tc.want) {
			t.Errorf("MonthStart(%s, %s) = %s; want %s", tc.now, tc.loc, got, tc.want)
		}
	}
}
