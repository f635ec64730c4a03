package admin_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/app/apptest"
	"github.com/paotui/paotui/internal/platform/admin"
	"github.com/paotui/paotui/internal/platform/provision"
	"github.com/paotui/paotui/internal/platform/tenancy"
)

func want(t *testing.T, r *apptest.Response, status int, code string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d %s; want %d", r.Status, r.Body, status)
	}
	if code != "" {
		if p := r.Problem(t); p.Code != code {
			t.Fatalf("code %q (%s); want %q", p.Code, p.Detail, code)
		}
	}
}

type tenantPage struct {
	Items []admin.PlatformTenant `json:"items"`
	Total int64                  `json:"total"`
}

func (p tenantPage) slugs() string {
	out := []string{}
	for _, it := range p.Items {
		out = append(out, it.Slug)
	}
	return strings.Join(out, ",")
}

type tenantDetail struct {
	admin.PlatformTenant
	Usage *struct {
		Plan  *struct{ ID string } `json:"plan"`
		Items []struct {
			Limit string `json:"limit"`
			Used  int64  `json:"used"`
			Max   *int64 `json:"max"`
		} `json:"items"`
	} `json:"usage"`
	Figures      *admin.TenantFigures `json:"figures"`
	Provisioning *provision.Progress  `json:"provisioning"`
	Subscription any                  `json:"subscription"`
}

// seedFigures writes orders and a courier into the tenant's schema in SQL, so the expected
// figures are known exactly: GMV this month 800 (1000 paid, 200 refunded; a fully refunded
// completed order adds 0), all time 1300 (plus 500 completed a year ago), and this month's
// counted orders 3 (the expired one and the old one do not count).
func seedFigures(t *testing.T, env *apptest.Env, tn *tenancy.Tenant) {
	t.Helper()
	db := env.App.DB.Gorm
	s := tn.Schema
	var user, task string
	if err := db.Raw(`SELECT id::text FROM ` + s + `.users LIMIT 1`).Scan(&user).Error; err != nil || user == "" {
		t.Fatalf("owner user: %q %v", user, err)
	}
	if err := db.Raw(`SELECT key FROM ` + s + `.task_types LIMIT 1`).Scan(&task).Error; err != nil || task == "" {
		t.Fatalf("task type: %q %v", task, err)
	}
	now := time.Now().UTC()
	old := now.AddDate(-1, -1, 0)
	orders := []struct {
		status             string
		paid, refunded     int64
		created, completed *time.Time
	}{
		{"completed", 1000, 200, &now, &now},
		{"completed", 500, 0, &old, &old},
		{"refunded", 300, 300, &now, &now},
		{"awaiting_courier", 700, 0, &now, nil},
		{"expired", 0, 0, &now, nil},
	}
	for i, o := range orders {
		err := db.Exec(`INSERT INTO `+s+`.orders (id, student_id, task_type, status, pickup_name, pickup_lng, pickup_lat,
			dropoff_name, dropoff_lng, dropoff_lat, form_enc, distance_m, price_lines, total, courier_share_bp, quote_id,
			paid_amount, refunded_amount, pay_by, completed_at, created_at)
			VALUES (gen_random_uuid(), ?, ?, ?, 'A', 120, 30, 'B', 120, 30, '\x00', 100, '[]', ?, 8000, ?, ?, ?, ?, ?, ?)`,
			user, task, o.status, max(o.paid, 1), fmt.Sprintf("q-%d", i), o.paid, o.refunded, *o.created, o.completed, *o.created).Error
		if err != nil {
			t.Fatalf("order %d: %v", i, err)
		}
	}
	if err := db.Exec(`INSERT INTO `+s+`.courier_profiles (user_id, status, real_name_enc, student_no_enc, student_no_bidx, online)
		VALUES (?, 'approved', '\x00', '\x00', '\x01', true)`, user).Error; err != nil {
		t.Fatal(err)
	}
}

// TestTenantsAdminHTTP drives the super-admin's tenant operations and the dashboard through
// the real router and the real Casbin platform policy.
func TestTenantsAdminHTTP(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := apptest.New(t)
	a := env.App
	svc := admin.New(a.DB, a.Registry, a.Resolver, a.Plans, a.Log).WithProvisioning(a.Provision)
	// Until the application wires them, the test adds the operations; registering twice is harmless.
	admin.RegisterHTTP(env.Server.API, svc)
	admin.RegisterHTTP(env.Server.API, svc)
	platform := env.PlatformHost()

	alpha := env.Tenant("alpha", "13800000001")
	beta := env.Tenant("beta", "13800000002")
	pending, err := a.Provision.Register(ctx, provision.Request{Slug: "gamma", Name: "Gamma 跑腿", OwnerPhone: "13800000003"})
	if err != nil {
		t.Fatal(err)
	}
	deleted, err := a.Provision.Register(ctx, provision.Request{Slug: "delta", Name: "Delta 跑腿", OwnerPhone: "13800000004"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.DB.Gorm.Transaction(func(tx *gorm.DB) error {
		_, err := a.Registry.SetStatus(tx, deleted.ID, tenancy.StatusDeleted, "closed")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	seedFigures(t, env, alpha)

	owner := env.PlatformLogin("owner@paotui.test", "owner-password", "owner")
	support := env.PlatformLogin("support@paotui.test", "support-password", "support")
	finance := env.PlatformLogin("finance@paotui.test", "finance-password", "finance")
	path := func(id int64, rest string) string { return fmt.Sprintf("/api/v1/platform/tenants/%d%s", id, rest) }
	reason := map[string]string{"reason": "unpaid invoice"}

	t.Run("roles", func(t *testing.T) {
		for _, tok := range []string{owner, support, finance} {
			want(t, env.Do(platform, "GET", "/api/v1/platform/tenants", tok, nil), http.StatusOK, "")
			want(t, env.Do(platform, "GET", "/api/v1/platform/dashboard", tok, nil), http.StatusOK, "")
		}
		want(t, env.Do(platform, "GET", "/api/v1/platform/tenants", "", nil), http.StatusUnauthorized, "unauthorized")
		// support looks after tenants but does not sell plans; finance the other way round.
		want(t, env.Do(platform, "PUT", path(beta.ID, "/plan"), support, map[string]string{"planId": "pro", "reason": "x"}),
			http.StatusForbidden, "permission_denied")
		want(t, env.Do(platform, "POST", path(beta.ID, "/suspend"), finance, reason), http.StatusForbidden, "permission_denied")
		want(t, env.Do(platform, "POST", path(beta.ID, "/resume"), finance, reason), http.StatusForbidden, "permission_denied")
		// A tenant host is not the platform host, even with a platform token.
		want(t, env.Do(env.Host("alpha"), "GET", "/api/v1/platform/tenants", owner, nil), http.StatusNotFound, "")
	})

	t.Run("suspend and resume take effect on the tenant host at once", func(t *testing.T) {
		host := env.Host("alpha")
		// Warm the resolver cache, so the test sees invalidation rather than a first lookup.
		want(t, env.Do(host, "GET", "/api/v1/places", "", nil), http.StatusOK, "")

		r := env.Do(platform, "POST", path(alpha.ID, "/suspend"), support, reason)
		want(t, r, http.StatusOK, "")
		var got admin.PlatformTenant
		r.JSON(t, &got)
		if got.Status != tenancy.StatusSuspended || got.StatusReason != "unpaid invoice" {
			t.Errorf("suspended %s", r.Body)
		}
		want(t, env.Do(host, "GET", "/api/v1/places", "", nil), http.StatusForbidden, "tenant_suspended")
		want(t, env.Do(env.Host("beta"), "GET", "/api/v1/places", "", nil), http.StatusOK, "")
		want(t, env.Do(platform, "POST", path(alpha.ID, "/suspend"), support, reason), http.StatusConflict, "tenant_already_suspended")

		var n int64
		if err := a.DB.Gorm.Raw(`SELECT count(*) FROM public.platform_audit_log WHERE tenant_id = ? AND action = 'tenant.suspended'
			AND actor LIKE 'platform:%' AND meta->>'reason' = 'unpaid invoice' AND meta->>'from' = 'active'`, alpha.ID).
			Scan(&n).Error; err != nil || n != 1 {
			t.Errorf("audit entries %d, %v; want 1", n, err)
		}

		want(t, env.Do(platform, "POST", path(alpha.ID, "/resume"), support, map[string]string{"reason": "paid"}), http.StatusOK, "")
		want(t, env.Do(host, "GET", "/api/v1/places", "", nil), http.StatusOK, "")
		want(t, env.Do(platform, "POST", path(alpha.ID, "/resume"), owner, reason), http.StatusConflict, "tenant_already_active")
	})

	t.Run("illegal moves and bad input", func(t *testing.T) {
		cases := []struct {
			name, method, path string
			body               any
			status             int
			code               string
		}{
			{"suspend provisioning", "POST", path(pending.ID, "/suspend"), reason, http.StatusConflict, "tenant_not_suspendable"},
			{"resume provisioning", "POST", path(pending.ID, "/resume"), reason, http.StatusConflict, "tenant_not_resumable"},
			{"suspend deleted", "POST", path(deleted.ID, "/suspend"), reason, http.StatusConflict, "tenant_not_suspendable"},
			{"resume deleted", "POST", path(deleted.ID, "/resume"), reason, http.StatusConflict, "tenant_not_resumable"},
			{"plan of deleted", "PUT", path(deleted.ID, "/plan"), map[string]string{"planId": "pro", "reason": "x"}, http.StatusConflict, "tenant_deleted"},
			{"unknown tenant", "POST", path(999999, "/suspend"), reason, http.StatusNotFound, "tenant_not_found"},
			{"blank reason", "POST", path(beta.ID, "/suspend"), map[string]string{"reason": "   "}, http.StatusUnprocessableEntity, "reason_required"},
			{"no reason", "POST", path(beta.ID, "/suspend"), map[string]string{}, http.StatusUnprocessableEntity, ""},
			{"long reason", "POST", path(beta.ID, "/suspend"), map[string]string{"reason": strings.Repeat("长", 201)}, http.StatusUnprocessableEntity, ""},
			{"unknown plan", "PUT", path(beta.ID, "/plan"), map[string]string{"planId": "nope", "reason": "x"}, http.StatusNotFound, "plan_not_found"},
			{"plan of unknown tenant", "PUT", path(999999, "/plan"), map[string]string{"planId": "pro", "reason": "x"}, http.StatusNotFound, "tenant_not_found"},
			{"plan without reason", "PUT", path(beta.ID, "/plan"), map[string]string{"planId": "pro"}, http.StatusUnprocessableEntity, ""},
			{"get unknown tenant", "GET", path(999999, ""), nil, http.StatusNotFound, "tenant_not_found"},
			{"bad status filter", "GET", "/api/v1/platform/tenants?status=paused", nil, http.StatusUnprocessableEntity, ""},
			{"limit too large", "GET", "/api/v1/platform/tenants?limit=1000", nil, http.StatusUnprocessableEntity, ""},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				want(t, env.Do(platform, tc.method, tc.path, owner, tc.body), tc.status, tc.code)
			})
		}
	})

	t.Run("set plan", func(t *testing.T) {
		r := env.Do(platform, "PUT", path(alpha.ID, "/plan"), finance, map[string]string{"planId": "pro", "reason": "upgrade"})
		want(t, r, http.StatusOK, "")
		var got admin.PlatformTenant
		r.JSON(t, &got)
		if got.PlanID == nil || *got.PlanID != "pro" {
			t.Errorf("after set plan %s", r.Body)
		}
		var n int64
		if err := a.DB.Gorm.Raw(`SELECT count(*) FROM public.platform_audit_log WHERE tenant_id = ? AND action = 'tenant.plan.set'
			AND actor LIKE 'platform:%'`, alpha.ID).Scan(&n).Error; err != nil || n != 1 {
			t.Errorf("plan audit entries %d, %v", n, err)
		}
	})

	t.Run("list: search, filters, pagination", func(t *testing.T) {
		list := func(q string) tenantPage {
			t.Helper()
			r := env.Do(platform, "GET", "/api/v1/platform/tenants"+q, support, nil)
			want(t, r, http.StatusOK, "")
			var p tenantPage
			r.JSON(t, &p)
			return p
		}
		cases := []struct {
			name, query, slugs string
			total              int64
		}{
			{"all", "", "alpha,beta,gamma,delta", 4},
			{"by slug", "?q=ALP", "alpha", 1},
			{"by name", "?q=" + "Gamma%20%E8%B7%91", "gamma", 1},
			{"like metacharacters are literal", "?q=%25", "", 0},
			{"status", "?status=provisioning", "gamma", 1},
			{"deleted", "?status=deleted", "delta", 1},
			{"plan", "?plan=pro", "alpha", 1},
			{"plan and status", "?plan=pro&status=suspended", "", 0},
			{"page", "?limit=2&offset=1", "beta,gamma", 4},
			{"past the end", "?offset=10", "", 4},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				p := list(tc.query)
				if p.slugs() != tc.slugs || p.Total != tc.total {
					t.Errorf("got %q total %d; want %q total %d", p.slugs(), p.Total, tc.slugs, tc.total)
				}
			})
		}
		r := env.Do(platform, "GET", "/api/v1/platform/tenants?q=nobody", support, nil)
		if !strings.Contains(string(r.Body), `"items":[]`) {
			t.Errorf("empty list is not []: %s", r.Body)
		}
		p := list("?q=alpha")
		if it := p.Items[0]; it.ID != alpha.ID || it.Name != "alpha 跑腿" || it.Status != tenancy.StatusActive ||
			it.StatusReason != "paid" || it.CreatedAt.IsZero() {
			t.Errorf("item %+v", it)
		}
	})

	t.Run("tenant detail", func(t *testing.T) {
		r := env.Do(platform, "GET", path(alpha.ID, ""), finance, nil)
		want(t, r, http.StatusOK, "")
		var d tenantDetail
		r.JSON(t, &d)
		if d.Slug != "alpha" || d.PlanID == nil || *d.PlanID != "pro" || d.Provisioning != nil || d.Subscription != nil {
			t.Errorf("detail %s", r.Body)
		}
		// A tenant without a subscription has none in its detail (the field is absent, as the
		// OpenAPI document says, so generated clients type it optional).
		if strings.Contains(string(r.Body), `"subscription"`) {
			t.Errorf("a tenant without a subscription shows one: %s", r.Body)
		}
		f := d.Figures
		if f == nil {
			t.Fatalf("no figures: %s", r.Body)
		}
		if f.GMV.ThisMonth != 800 || f.GMV.AllTime != 1300 {
			t.Errorf("gmv %+v; want 800 this month, 1300 all time", f.GMV)
		}
		wantOrders := map[string]int64{"completed": 2, "refunded": 1, "awaiting_courier": 1, "expired": 1, "cancelled": 0}
		for k, v := range wantOrders {
			if f.Orders[k] != v {
				t.Errorf("orders[%s] = %d; want %d (%v)", k, f.Orders[k], v, f.Orders)
			}
		}
		if len(f.Orders) != len(admin.OrderStatuses) {
			t.Errorf("orders by status %v lacks statuses", f.Orders)
		}
		if f.Couriers.Approved != 1 || f.Couriers.Online != 1 {
			t.Errorf("couriers %+v", f.Couriers)
		}
		if d.Usage == nil || d.Usage.Plan == nil || d.Usage.Plan.ID != "pro" {
			t.Fatalf("usage %s", r.Body)
		}
		used := map[string]int64{}
		for _, it := range d.Usage.Items {
			used[it.Limit] = it.Used
		}
		if used["orders_per_month"] != 3 || used["active_couriers"] != 1 {
			t.Errorf("usage %v", used)
		}

		r = env.Do(platform, "GET", path(pending.ID, ""), support, nil)
		want(t, r, http.StatusOK, "")
		var p tenantDetail
		r.JSON(t, &p)
		if p.Status != tenancy.StatusProvisioning || p.Usage != nil || p.Figures != nil || p.Provisioning == nil ||
			p.Provisioning.Step == "" || p.Provisioning.TenantID != pending.ID {
			t.Errorf("provisioning detail %s", r.Body)
		}
	})

	t.Run("dashboard", func(t *testing.T) {
		// beta is suspended: out of the month's orders and MRR, but counted by status.
		want(t, env.Do(platform, "POST", path(beta.ID, "/suspend"), owner, reason), http.StatusOK, "")
		want(t, env.Do(platform, "PUT", path(beta.ID, "/plan"), owner, map[string]string{"planId": "enterprise", "reason": "x"}), http.StatusOK, "")
		r := env.Do(platform, "GET", "/api/v1/platform/dashboard", support, nil)
		want(t, r, http.StatusOK, "")
		var d admin.PlatformDashboard
		r.JSON(t, &d)
		wantStatus := map[string]int64{"active": 1, "suspended": 1, "provisioning": 1, "deleted": 1}
		for k, v := range wantStatus {
			if d.TenantsByStatus[k] != v {
				t.Errorf("tenantsByStatus %v; want %v", d.TenantsByStatus, wantStatus)
				break
			}
		}
		if d.OrdersThisMonth != 3 || d.GMVThisMonth != 800 {
			t.Errorf("orders %d gmv %d; want 3 and 800", d.OrdersThisMonth, d.GMVThisMonth)
		}
		if len(d.MRR) != 1 || d.MRR[0].Currency != "cny" || d.MRR[0].Amount != 29900 || d.MRR[0].Tenants != 1 {
			t.Errorf("mrr %+v; want alpha's pro plan only", d.MRR)
		}
		if len(d.Signups) != 12 || d.Signups[11].Signups != 4 {
			t.Fatalf("signups %+v", d.Signups)
		}
		y, w := time.Now().In(d.Signups[11].WeekStart.Location()).ISOWeek()
		if d.Signups[11].Week != fmt.Sprintf("%04d-W%02d", y, w) || d.Signups[11].WeekStart.Weekday() != time.Monday {
			t.Errorf("this week %+v", d.Signups[11])
		}
		for i := 1; i < 12; i++ {
			if got := d.Signups[i].WeekStart.Sub(d.Signups[i-1].WeekStart); got != 7*24*time.Hour {
				t.Errorf("week %d starts %s after the previous", i, got)
			}
		}
		if len(d.Unreadable) != 0 {
			t.Errorf("unreadable %v", d.Unreadable)
		}
	})
}
