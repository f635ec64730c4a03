package plans_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/audit"
	"github.com/paotui/paotui/internal/platform/plans"
	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/store"
	"github.com/paotui/paotui/internal/store/storetest"
)

func ptr(n int64) *int64 { return &n }

var admin = audit.Entry{Actor: "platform:test-admin", IP: "192.0.2.1"}

// noMembers counts no staff; tests of staff seats use the real authz.
type noMembers struct{}

func (noMembers) Members(context.Context, *tenancy.Tenant, []string) (map[string][]string, error) {
	return map[string][]string{}, nil
}

// newTenant registers an active tenant (no schema: the plan questions are control-plane ones).
func newTenant(t *testing.T, db *store.DB, slug string) *tenancy.Tenant {
	t.Helper()
	reg := tenancy.NewRegistry(db.Gorm, nil)
	var tn *tenancy.Tenant
	err := db.Gorm.Transaction(func(tx *gorm.DB) error {
		var err error
		if tn, err = reg.Insert(tx, slug, slug); err != nil {
			return err
		}
		tn, err = reg.SetStatus(tx, tn.ID, tenancy.StatusActive, "")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return tn
}

type auditRow struct {
	Actor    string
	TenantID *int64
	Action   string
	Target   string
	Meta     string
}

func platformAudit(t *testing.T, db *store.DB, prefix string) []auditRow {
	t.Helper()
	var rows []auditRow
	if err := db.Gorm.Raw(`SELECT actor, tenant_id, action, target, meta::text AS meta FROM public.platform_audit_log
		WHERE action LIKE ? ORDER BY id`, prefix+"%").Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	return rows
}

func ids(list []plans.Plan) []string {
	out := []string{}
	for _, p := range list {
		out = append(out, p.ID)
	}
	return out
}

func draft(id string) plans.Plan {
	return plans.Plan{ID: id, Name: plans.Text{ZH: "学校版", EN: "School"}, Currency: "CNY", MonthlyAmount: 9900,
		YearlyAmount: 99000, TrialDays: 7, Limits: plans.Limits{MaxActiveCouriers: ptr(30), MaxOrdersPerMonth: ptr(1000),
			MaxStaffSeats: ptr(5)}, Sort: 15}
}

// The migration seeds three plans, offered in price order, without Stripe prices.
func TestSeededPlans(t *testing.T) {
	t.Parallel()
	db, _ := storetest.New(t)
	s := plans.NewService(db, noMembers{})
	list, total, err := s.List(context.Background(), plans.ListFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(list); total != 3 || !slices.Equal(got, []string{"campus", "pro", "enterprise"}) {
		t.Fatalf("seeded %v (%d)", got, total)
	}
	for _, p := range list {
		if p.Prices != (plans.StripePrices{}) || p.Status != plans.StatusActive || p.Currency != "cny" || p.Name.ZH == "" || p.Name.EN == "" {
			t.Errorf("seeded %+v", p)
		}
	}
	if list[0].Limits.CustomDomain || !list[1].Limits.CustomDomain || list[2].Limits.MaxOrdersPerMonth != nil {
		t.Errorf("seeded limits %+v %+v %+v", list[0].Limits, list[1].Limits, list[2].Limits)
	}
	// Paging keeps the order.
	page, total, err := s.List(context.Background(), plans.ListFilter{Limit: 1, Offset: 1})
	if err != nil || total != 3 || !slices.Equal(ids(page), []string{"pro"}) {
		t.Fatalf("page 2: %v %d %v", ids(page), total, err)
	}
}

func TestPlanLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := storetest.New(t)
	s := plans.NewService(db, noMembers{})

	p, err := s.Create(ctx, draft("school"), admin)
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != plans.StatusActive || p.Currency != "cny" || p.CreatedAt.IsZero() || *p.Limits.MaxStaffSeats != 5 {
		t.Fatalf("created %+v", p)
	}

	t.Run("refusals", func(t *testing.T) {
		bad := draft("school2")
		bad.Limits.MaxActiveCouriers = ptr(0)
		var ie *plans.InvalidError
		if _, err := s.Create(ctx, bad, admin); !errors.As(err, &ie) || ie.Field != "limits.maxActiveCouriers" {
			t.Errorf("zero couriers: %v", err)
		}
		if _, err := s.Create(ctx, draft("school"), admin); !errors.Is(err, plans.ErrPlanExists) {
			t.Errorf("same id: %v", err)
		}
		withPrice := draft("school")
		withPrice.Prices.Monthly = "price_school_monthly"
		if _, err := s.Update(ctx, withPrice, admin); err != nil {
			t.Fatal(err)
		}
		thief := draft("copycat")
		thief.Prices.Yearly = "price_school_monthly"
		if _, err := s.Create(ctx, thief, admin); !errors.Is(err, plans.ErrPriceInUse) {
			t.Errorf("price of another plan: %v", err)
		}
		if _, err := s.Update(ctx, draft("nosuch"), admin); !errors.Is(err, plans.ErrPlanNotFound) {
			t.Errorf("update unknown: %v", err)
		}
		if _, err := s.Get(ctx, "copycat"); !errors.Is(err, plans.ErrPlanNotFound) {
			t.Errorf("a refused create left a plan: %v", err)
		}
	})

	t.Run("update replaces, keeps status and creation", func(t *testing.T) {
		e := draft("school")
		e.Name.EN, e.Limits.MaxStaffSeats, e.Prices = "School+", nil, plans.StripePrices{Metered: "price_per_order"}
		got, err := s.Update(ctx, e, admin)
		if err != nil {
			t.Fatal(err)
		}
		if got.Name.EN != "School+" || got.Limits.MaxStaffSeats != nil || got.Prices.Monthly != "" ||
			got.Prices.Metered != "price_per_order" || !got.CreatedAt.Equal(p.CreatedAt) || got.Status != plans.StatusActive {
			t.Errorf("updated %+v", got)
		}
	})

	t.Run("retire", func(t *testing.T) {
		got, err := s.Retire(ctx, "school", admin)
		if err != nil || got.Status != plans.StatusRetired {
			t.Fatalf("retire: %+v %v", got, err)
		}
		if _, err := s.Retire(ctx, "school", admin); err != nil {
			t.Errorf("retiring again: %v", err)
		}
		active, _, _ := s.List(ctx, plans.ListFilter{})
		all, _, _ := s.List(ctx, plans.ListFilter{IncludeRetired: true})
		if slices.Contains(ids(active), "school") || !slices.Contains(ids(all), "school") {
			t.Errorf("active %v, all %v", ids(active), ids(all))
		}
		if _, err := s.ForSignup(ctx, "school"); !errors.Is(err, plans.ErrPlanRetired) {
			t.Errorf("signup with a retired plan: %v", err)
		}
		if _, err := s.ForSignup(ctx, "pro"); err != nil {
			t.Errorf("signup with pro: %v", err)
		}
		// A retired plan may still be edited (names, prices for existing subscribers).
		e := draft("school")
		e.Name.ZH = "学校版（旧）"
		if got, err := s.Update(ctx, e, admin); err != nil || got.Status != plans.StatusRetired {
			t.Errorf("edit retired: %+v %v", got, err)
		}
		if _, err := s.Retire(ctx, "campus", admin); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Retire(ctx, "pro", admin); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Retire(ctx, "enterprise", admin); !errors.Is(err, plans.ErrLastActivePlan) {
			t.Errorf("retiring the last offered plan: %v", err)
		}
	})

	var actions []string
	for _, r := range platformAudit(t, db, "plan.") {
		if r.Actor != admin.Actor || r.TenantID != nil {
			t.Errorf("audit %+v", r)
		}
		actions = append(actions, r.Action+" "+r.Target)
	}
	want := []string{"plan.create plan:school", "plan.update plan:school", "plan.update plan:school", "plan.retire plan:school",
		"plan.update plan:school", "plan.retire plan:campus", "plan.retire plan:pro"}
	if !slices.Equal(actions, want) {
		t.Errorf("audited %q\nwant    %q", actions, want)
	}
}

// Check refuses at the limit, names the cheapest plan that lifts it, and follows plan changes.
func TestCheckAndUpgradeHints(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := storetest.New(t)
	s := plans.NewService(db, noMembers{})
	tn := newTenant(t, db, "hints")

	// No plan: nothing is limited.
	for _, k := range plans.Kinds {
		if err := s.Check(ctx, tn.ID, k, 1<<40); err != nil {
			t.Fatalf("no plan, %s: %v", k, err)
		}
	}
	if err := s.SetTenantPlan(ctx, tn.ID, "campus", "platform:a", "trial ended"); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		kind    plans.Kind
		current int64
		max     int64  // 0 with upgrade "" = allowed
		upgrade string // "-" = refused with no plan to suggest
	}{
		{plans.KindActiveCouriers, 9, 0, ""},
		{plans.KindActiveCouriers, 10, 10, "pro"},
		{plans.KindActiveCouriers, 100, 10, "enterprise"}, // pro's 100 would not fit a 101st
		{plans.KindOrdersPerMonth, 299, 0, ""},
		{plans.KindOrdersPerMonth, 300, 300, "pro"},
		{plans.KindStaffSeats, 3, 3, "pro"},
		{plans.KindCustomDomains, 0, 0, "pro"},
	}
	for _, tc := range cases {
		err := s.Check(ctx, tn.ID, tc.kind, tc.current)
		if tc.upgrade == "" {
			if err != nil {
				t.Errorf("%s at %d: %v", tc.kind, tc.current, err)
			}
			continue
		}
		var le *plans.LimitError
		if !errors.As(err, &le) || !errors.Is(err, plans.ErrLimitReached) {
			t.Errorf("%s at %d: want *LimitError, got %v", tc.kind, tc.current, err)
			continue
		}
		if le.Kind != tc.kind || le.Max != tc.max || le.Current != tc.current || le.PlanID != "campus" {
			t.Errorf("%s at %d: %+v", tc.kind, tc.current, le)
		}
		if le.Upgrade == nil || le.Upgrade.ID != tc.upgrade {
			t.Errorf("%s at %d: upgrade %+v; want %s", tc.kind, tc.current, le.Upgrade, tc.upgrade)
		}
	}

	// A cheaper plan created later becomes the hint; a retired one never is.
	mid := draft("school")
	if _, err := s.Create(ctx, mid, admin); err != nil {
		t.Fatal(err)
	}
	var le *plans.LimitError
	if err := s.Check(ctx, tn.ID, plans.KindActiveCouriers, 10); !errors.As(err, &le) || le.Upgrade.ID != "school" {
		t.Fatalf("with school offered: %v", err)
	}
	if _, err := s.Retire(ctx, "school", admin); err != nil {
		t.Fatal(err)
	}
	if err := s.Check(ctx, tn.ID, plans.KindActiveCouriers, 10); !errors.As(err, &le) || le.Upgrade.ID != "pro" {
		t.Fatalf("with school retired: %v", err)
	}

	// The top plan limits no orders.
	if err := s.SetTenantPlan(ctx, tn.ID, "enterprise", "platform:a", "deal"); err != nil {
		t.Fatal(err)
	}
	if err := s.Check(ctx, tn.ID, plans.KindOrdersPerMonth, 1<<40); err != nil {
		t.Errorf("enterprise orders: %v", err)
	}
	// A tenant on a plan whose limit nothing beats gets no hint.
	capped := draft("capped")
	capped.Limits.MaxStaffSeats = ptr(1)
	if _, err := s.Create(ctx, capped, admin); err != nil {
		t.Fatal(err)
	}
	if err := s.SetTenantPlan(ctx, tn.ID, "capped", "platform:a", ""); err != nil {
		t.Fatal(err)
	}
	upd := draft("enterprise")
	upd.Name = plans.Text{ZH: "企业版", EN: "Enterprise"}
	upd.Limits = plans.Limits{MaxStaffSeats: ptr(1)}
	if _, err := s.Update(ctx, upd, admin); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"pro", "campus"} {
		if _, err := s.Retire(ctx, id, admin); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Check(ctx, tn.ID, plans.KindStaffSeats, 1); !errors.As(err, &le) || le.Upgrade != nil {
		t.Errorf("nothing bigger offered: %v %+v", err, le)
	}

	if err := s.Check(ctx, 1<<40, plans.KindStaffSeats, 1); !errors.Is(err, plans.ErrTenantNotFound) {
		t.Errorf("unknown tenant: %v", err)
	}
}

func TestSetTenantPlan(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := storetest.New(t)
	s := plans.NewService(db, noMembers{})
	a, b := newTenant(t, db, "team-a"), newTenant(t, db, "team-b")

	if err := s.SetTenantPlan(ctx, a.ID, "pro", "platform:x", "signed the contract"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetTenantPlan(ctx, a.ID, "pro", "platform:x", "again"); err != nil {
		t.Fatalf("same plan again: %v", err)
	}
	if _, err := s.Retire(ctx, "pro", admin); err != nil {
		t.Fatal(err)
	}
	// Retired: a keeps it and its limits; b cannot get it.
	if p, err := s.TenantPlan(ctx, a.ID); err != nil || p == nil || p.ID != "pro" {
		t.Errorf("a's plan after retirement: %+v %v", p, err)
	}
	if l, err := s.Limits(ctx, a.ID); err != nil || l.MaxActiveCouriers == nil || *l.MaxActiveCouriers != 100 {
		t.Errorf("a's limits: %+v %v", l, err)
	}
	if err := s.SetTenantPlan(ctx, b.ID, "pro", "platform:x", ""); !errors.Is(err, plans.ErrPlanRetired) {
		t.Errorf("retired plan for b: %v", err)
	}
	if err := s.SetTenantPlan(ctx, a.ID, "pro", "platform:x", "no change"); err != nil {
		t.Errorf("keeping a retired plan: %v", err)
	}
	if err := s.SetTenantPlan(ctx, b.ID, "nosuch", "platform:x", ""); !errors.Is(err, plans.ErrPlanNotFound) {
		t.Errorf("unknown plan: %v", err)
	}
	if err := s.SetTenantPlan(ctx, 1<<40, "campus", "platform:x", ""); !errors.Is(err, plans.ErrTenantNotFound) {
		t.Errorf("unknown tenant: %v", err)
	}
	if p, err := s.TenantPlan(ctx, b.ID); err != nil || p != nil {
		t.Errorf("b's plan: %+v %v", p, err)
	}
	counts, err := s.TenantCounts(ctx)
	if err != nil || counts["pro"] != 1 || counts["campus"] != 0 {
		t.Errorf("counts %v %v", counts, err)
	}

	rows := platformAudit(t, db, "tenant.plan.")
	if len(rows) != 1 || rows[0].TenantID == nil || *rows[0].TenantID != a.ID || rows[0].Actor != "platform:x" ||
		rows[0].Target != "tenant:team-a" || rows[0].Meta != `{"to": "pro", "from": "", "reason": "signed the contract"}` {
		t.Errorf("audit %+v", rows)
	}
}

// Limits are cached: a change through the same Service is seen at once, one made through
// another replica's within the TTL.
func TestLimitsCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := storetest.New(t)
	here, there := plans.NewService(db, noMembers{}), plans.NewService(db, noMembers{})
	now := time.Now()
	plans.SetClock(there, func() time.Time { return now })
	tn := newTenant(t, db, "cached")

	if err := there.Check(ctx, tn.ID, plans.KindStaffSeats, 5); err != nil {
		t.Fatal(err) // no plan yet: cached as unlimited
	}
	if err := here.SetTenantPlan(ctx, tn.ID, "campus", "platform:x", ""); err != nil {
		t.Fatal(err)
	}
	if err := here.Check(ctx, tn.ID, plans.KindStaffSeats, 5); !errors.Is(err, plans.ErrLimitReached) {
		t.Fatalf("this replica after the change: %v", err)
	}
	if err := there.Check(ctx, tn.ID, plans.KindStaffSeats, 5); err != nil {
		t.Fatalf("the other replica within the TTL should still answer from its cache: %v", err)
	}
	now = now.Add(plans.LimitsTTL + time.Second)
	if err := there.Check(ctx, tn.ID, plans.KindStaffSeats, 5); !errors.Is(err, plans.ErrLimitReached) {
		t.Fatalf("the other replica after the TTL: %v", err)
	}

	// Editing the plan reaches its tenants at once here.
	e := draft("campus")
	e.Name = plans.Text{ZH: "校园版", EN: "Campus"}
	e.Limits.MaxStaffSeats = ptr(50)
	if _, err := here.Update(ctx, e, admin); err != nil {
		t.Fatal(err)
	}
	if err := here.Check(ctx, tn.ID, plans.KindStaffSeats, 5); err != nil {
		t.Fatalf("after raising the plan's seats: %v", err)
	}
}
