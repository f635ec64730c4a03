package plans_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/paotui/paotui/internal/app/apptest"
	"github.com/paotui/paotui/internal/platform/plans"
	"github.com/paotui/paotui/internal/platform/tenancy"
)

type planPage struct {
	Items []struct {
		ID           string         `json:"id"`
		Name         plans.Text     `json:"name"`
		Status       string         `json:"status"`
		TenantCount  *int64         `json:"tenantCount"`
		StripePrices map[string]any `json:"stripePrices"`
		Limits       map[string]any `json:"limits"`
	} `json:"items"`
	Total int64 `json:"total"`
}

func (p planPage) ids() []string {
	out := []string{}
	for _, it := range p.Items {
		out = append(out, it.ID)
	}
	return out
}

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

func planBody(id string) map[string]any {
	return map[string]any{
		"id": id, "name": map[string]string{"zh": "学校版", "en": "School"}, "currency": "cny",
		"monthlyAmount": 9900, "yearlyAmount": 99000, "trialDays": 7,
		"stripePrices": map[string]string{"monthly": "price_" + id + "_m"},
		"limits":       map[string]any{"maxActiveCouriers": 30, "maxOrdersPerMonth": 1000, "maxStaffSeats": nil, "customDomain": true},
		"sort":         15,
	}
}

// TestPlansHTTP drives the public, platform and tenant plan operations through the real router.
func TestPlansHTTP(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := apptest.New(t)
	svc := plans.NewService(env.App.DB, env.App.Authz)
	// Until the application wires them, the test adds the operations; registering twice is harmless.
	plans.RegisterHTTP(env.Server.API, svc)
	plans.RegisterHTTP(env.Server.API, svc)
	base, platform := env.App.Cfg.BaseDomain, env.PlatformHost()
	tn := env.Tenant("campus", "13800000000", "demo")
	host := env.Host("campus")
	owner := env.PlatformLogin("owner@paotui.test", "owner-password", "owner")
	finance := env.PlatformLogin("finance@paotui.test", "finance-password", "finance")
	support := env.PlatformLogin("support@paotui.test", "support-password", "support")

	t.Run("public list on the base host", func(t *testing.T) {
		r := env.Do(base, "GET", "/api/v1/plans", "", nil)
		want(t, r, http.StatusOK, "")
		var page planPage
		r.JSON(t, &page)
		if !slices.Equal(page.ids(), []string{"campus", "pro", "enterprise"}) || page.Total != 3 {
			t.Fatalf("plans %s", r.Body)
		}
		if page.Items[0].Name.ZH != "校园版" || page.Items[0].Name.EN != "Campus" || page.Items[2].Limits["maxOrdersPerMonth"] != nil {
			t.Errorf("plans %s", r.Body)
		}
		if strings.Contains(string(r.Body), "stripePrices") || strings.Contains(string(r.Body), "tenantCount") {
			t.Errorf("public list shows platform fields: %s", r.Body)
		}
		want(t, env.Do(host, "GET", "/api/v1/plans", "", nil), http.StatusNotFound, "not_found")
		want(t, env.Do(base, "GET", "/api/v1/plans?limit=1000", "", nil), http.StatusUnprocessableEntity, "")
	})

	t.Run("platform plan management", func(t *testing.T) {
		r := env.Do(platform, "POST", "/api/v1/platform/plans", owner, planBody("school"))
		want(t, r, http.StatusCreated, "")
		var created plans.Plan
		r.JSON(t, &created)
		if created.Status != plans.StatusActive || created.Prices.Monthly != "price_school_m" || created.Limits.MaxStaffSeats != nil {
			t.Errorf("created %s", r.Body)
		}
		want(t, env.Do(platform, "POST", "/api/v1/platform/plans", owner, planBody("school")), http.StatusConflict, "plan_exists")

		bad := planBody("School Plan")
		r = env.Do(platform, "POST", "/api/v1/platform/plans", owner, bad)
		want(t, r, http.StatusUnprocessableEntity, "plan_invalid")
		if p := r.Problem(t); len(p.Errors) != 1 || p.Errors[0].Location != "body.id" {
			t.Errorf("errors %s", r.Body)
		}
		// Every limit must be stated: leaving one out must not make it unlimited by accident.
		partial := planBody("partial")
		partial["limits"] = map[string]any{"maxActiveCouriers": 3, "customDomain": false}
		want(t, env.Do(platform, "POST", "/api/v1/platform/plans", owner, partial), http.StatusUnprocessableEntity, "")
		stolen := planBody("copycat")
		stolen["stripePrices"] = map[string]string{"yearly": "price_school_m"}
		want(t, env.Do(platform, "POST", "/api/v1/platform/plans", owner, stolen), http.StatusConflict, "plan_price_in_use")

		edit := planBody("ignored")
		delete(edit, "id")
		edit["name"] = map[string]string{"zh": "学校版", "en": "School Plus"}
		r = env.Do(platform, "PUT", "/api/v1/platform/plans/school", owner, edit)
		want(t, r, http.StatusOK, "")
		if !strings.Contains(string(r.Body), "School Plus") {
			t.Errorf("updated %s", r.Body)
		}
		want(t, env.Do(platform, "PUT", "/api/v1/platform/plans/nosuch", owner, edit), http.StatusNotFound, "plan_not_found")

		if err := svc.SetTenantPlan(ctx, tn.ID, "school", "platform:test", "pilot"); err != nil {
			t.Fatal(err)
		}
		r = env.Do(platform, "POST", "/api/v1/platform/plans/school/retire", owner, nil)
		want(t, r, http.StatusOK, "")
		if !strings.Contains(string(r.Body), `"status":"retired"`) {
			t.Errorf("retired %s", r.Body)
		}
		want(t, env.Do(platform, "POST", "/api/v1/platform/plans/nosuch/retire", owner, nil), http.StatusNotFound, "plan_not_found")

		var pub, active, all planPage
		env.Do(base, "GET", "/api/v1/plans", "", nil).JSON(t, &pub)
		env.Do(platform, "GET", "/api/v1/platform/plans", owner, nil).JSON(t, &active)
		env.Do(platform, "GET", "/api/v1/platform/plans?includeRetired=true", owner, nil).JSON(t, &all)
		if slices.Contains(pub.ids(), "school") || slices.Contains(active.ids(), "school") || !slices.Contains(all.ids(), "school") {
			t.Errorf("public %v, platform %v, with retired %v", pub.ids(), active.ids(), all.ids())
		}
		for _, it := range all.Items {
			if it.TenantCount == nil || (it.ID == "school") != (*it.TenantCount == 1) {
				t.Errorf("%s: tenantCount %v", it.ID, it.TenantCount)
			}
		}

		var audited []string
		if err := env.App.DB.Gorm.Raw(`SELECT action FROM public.platform_audit_log WHERE action LIKE 'plan.%' AND actor LIKE 'platform:%' ORDER BY id`).
			Scan(&audited).Error; err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(audited, []string{"plan.create", "plan.update", "plan.retire"}) {
			t.Errorf("audited %v", audited)
		}
	})

	t.Run("platform roles and hosts", func(t *testing.T) {
		want(t, env.Do(platform, "POST", "/api/v1/platform/plans", finance, planBody("finance")), http.StatusCreated, "")
		want(t, env.Do(platform, "GET", "/api/v1/platform/plans", support, nil), http.StatusOK, "")
		want(t, env.Do(platform, "POST", "/api/v1/platform/plans", support, planBody("support")), http.StatusForbidden, "permission_denied")
		want(t, env.Do(platform, "POST", "/api/v1/platform/plans/finance/retire", support, nil), http.StatusForbidden, "permission_denied")
		want(t, env.Do(platform, "GET", "/api/v1/platform/plans", "", nil), http.StatusUnauthorized, "")
		want(t, env.Do(host, "GET", "/api/v1/platform/plans", owner, nil), http.StatusNotFound, "not_found")
	})

	t.Run("tenant usage", func(t *testing.T) {
		tenantOwner := env.Login("campus", "13800000000").AccessToken
		student := env.Login("campus", "13900000001").AccessToken
		type usage struct {
			Plan *struct {
				ID     string `json:"id"`
				Status string `json:"status"`
			} `json:"plan"`
			PeriodStart string `json:"periodStart"`
			Items       []struct {
				Limit string `json:"limit"`
				Used  int64  `json:"used"`
				Max   *int64 `json:"max"`
			} `json:"items"`
		}
		var u usage
		r := env.Do(host, "GET", "/api/v1/admin/billing/usage", tenantOwner, nil)
		want(t, r, http.StatusOK, "")
		r.JSON(t, &u)
		// The tenant is on the retired school plan, which it keeps.
		if u.Plan == nil || u.Plan.ID != "school" || u.Plan.Status != "retired" || u.PeriodStart == "" || len(u.Items) != 4 {
			t.Fatalf("usage %s", r.Body)
		}
		for _, it := range u.Items {
			switch it.Limit {
			case "active_couriers":
				if it.Max == nil || *it.Max != 30 {
					t.Errorf("couriers %s", r.Body)
				}
			case "staff_seats":
				if it.Max != nil || it.Used < 1 {
					t.Errorf("seats %s", r.Body)
				}
			}
		}
		want(t, env.Do(host, "GET", "/api/v1/admin/billing/usage", student, nil), http.StatusForbidden, "permission_denied")
		want(t, env.Do(base, "GET", "/api/v1/admin/billing/usage", tenantOwner, nil), http.StatusNotFound, "not_found")

		// A paused team still sees what it is on.
		if _, err := env.App.SetTenantStatus(ctx, "campus", tenancy.StatusSuspended, "unpaid", "test"); err != nil {
			t.Fatal(err)
		}
		want(t, env.Do(host, "GET", "/api/v1/admin/billing/usage", tenantOwner, nil), http.StatusOK, "")
	})
}
