package app_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/paotui/paotui/internal/audit"
	"github.com/paotui/paotui/internal/blueprint"
	"github.com/paotui/paotui/internal/platform/plans"
)

// A tenant's plan limits hold in the tenant: orders per month at create-order, active couriers
// at approve-courier, staff seats at grant-role; each refusal is plan_limit_reached with the
// limit, the usage and the cheapest plan that fits. Tenants without a plan are not limited.
func TestPlanLimitsAreEnforcedInTheTenant(t *testing.T) {
	e := newErrandEnv(t)
	ctx := context.Background()
	tn := e.tenant(t)
	one, two, four := int64(1), int64(2), int64(4)
	// The demo campus has two approved couriers and four staff (owner, dispatcher, finance,
	// support).
	_, err := e.App.Plans.Create(ctx, plans.Plan{ID: "tiny", Name: blueprint.Text{ZH: "迷你", EN: "Tiny"}, Currency: "cny",
		MonthlyAmount: 100, Limits: plans.Limits{MaxOrdersPerMonth: &one, MaxActiveCouriers: &two, MaxStaffSeats: &four}},
		audit.Entry{Actor: "platform:test"})
	if err != nil {
		t.Fatal(err)
	}

	// Without a plan nothing is limited: two orders go through.
	e.placeOrder(t, 0)
	if err := e.App.Plans.SetTenantPlan(ctx, tn.ID, "tiny", "platform:test", "limits test"); err != nil {
		t.Fatal(err)
	}
	refused := func(r interface {
		JSON(testing.TB, any)
	}, status int, what string, wantLimit string) {
		t.Helper()
		var p struct {
			Code    string `json:"code"`
			Limit   string `json:"limit"`
			Max     int64  `json:"max"`
			Current int64  `json:"current"`
			Upgrade *struct {
				PlanID string `json:"planId"`
			} `json:"upgrade"`
		}
		r.JSON(t, &p)
		if status != http.StatusForbidden || p.Code != "plan_limit_reached" || p.Limit != wantLimit || p.Upgrade == nil || p.Upgrade.PlanID == "" {
			t.Fatalf("%s: %d %+v; want 403 plan_limit_reached on %s with an upgrade", what, status, p, wantLimit)
		}
	}

	// Orders: one this month already, the plan allows one.
	q := e.Do(e.host, "POST", "/api/v1/orders/quote", e.student.AccessToken, e.quoteBody(0))
	var quote struct{ Token string }
	q.JSON(t, &quote)
	body := e.quoteBody(0)
	body["quoteToken"] = quote.Token
	r := e.Do(e.host, "POST", "/api/v1/orders", e.student.AccessToken, body)
	refused(r, r.Status, "create-order", "orders_per_month")

	// Couriers: two approved, an applicant is one too many.
	applicant := e.Login("campus", "13911112222")
	if r := e.Do(e.host, "POST", "/api/v1/courier/application", applicant.AccessToken,
		map[string]string{"realName": "新跑腿员", "studentNo": "S20260001", "vehicle": "bike"}); r.Status != http.StatusCreated {
		t.Fatalf("apply: %d %s", r.Status, r.Body)
	}
	r = e.Do(e.host, "POST", "/api/v1/admin/couriers/"+applicant.User.ID+"/approve", e.owner.AccessToken, map[string]string{"reason": "ok"})
	refused(r, r.Status, "approve-courier", "active_couriers")

	// Staff: a new staff member needs a seat; a staff member given another role does not.
	r = e.Do(e.host, "POST", "/api/v1/staff/roles", e.owner.AccessToken, map[string]string{"phone": "13612345678", "role": "dispatcher"})
	refused(r, r.Status, "grant-role to a newcomer", "staff_seats")
	if r := e.Do(e.host, "POST", "/api/v1/staff/roles", e.owner.AccessToken, map[string]string{"phone": "13800000001", "role": "support"}); r.Status != http.StatusOK {
		t.Fatalf("grant-role to existing staff: %d %s", r.Status, r.Body)
	}

	// Upgrading lifts the limits at once.
	if err := e.App.Plans.SetTenantPlan(ctx, tn.ID, "enterprise", "platform:test", "upgrade"); err != nil {
		t.Fatal(err)
	}
	if r := e.Do(e.host, "POST", "/api/v1/orders", e.student.AccessToken, body); r.Status != http.StatusCreated && r.Status != http.StatusOK {
		t.Fatalf("create-order after the upgrade: %d %s", r.Status, r.Body)
	}
	if r := e.Do(e.host, "POST", "/api/v1/admin/couriers/"+applicant.User.ID+"/approve", e.owner.AccessToken, map[string]string{"reason": "ok"}); r.Status != http.StatusOK {
		t.Fatalf("approve after the upgrade: %d %s", r.Status, r.Body)
	}
}
