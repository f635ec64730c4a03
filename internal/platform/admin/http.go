package admin

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/paotui/paotui/internal/audit"
	"github.com/paotui/paotui/internal/httpx"
	"github.com/paotui/paotui/internal/platform/billing"
	"github.com/paotui/paotui/internal/platform/plans"
	"github.com/paotui/paotui/internal/platform/provision"
	"github.com/paotui/paotui/internal/platform/tenancy"
)

// problems is the HTTP meaning of the package's errors and of the plans errors SetPlan passes on.
var problems = httpx.ProblemTable{
	httpx.Rule(ErrTenantNotFound, http.StatusNotFound, "tenant_not_found", "no such tenant"),
	httpx.Rule(ErrAlreadySuspended, http.StatusConflict, "tenant_already_suspended", ""),
	httpx.Rule(ErrNotSuspendable, http.StatusConflict, "tenant_not_suspendable",
		"only an active tenant can be suspended; this one is still provisioning or is deleted"),
	httpx.Rule(ErrAlreadyActive, http.StatusConflict, "tenant_already_active", ""),
	httpx.Rule(ErrNotResumable, http.StatusConflict, "tenant_not_resumable",
		"only a suspended tenant can be resumed; this one is still provisioning or is deleted"),
	httpx.Rule(ErrTenantDeleted, http.StatusConflict, "tenant_deleted", "the tenant is deleted; its plan can no longer change"),
	httpx.Rule(ErrReasonRequired, http.StatusUnprocessableEntity, "reason_required", ""),
	httpx.Rule(plans.ErrPlanNotFound, http.StatusNotFound, "plan_not_found", "no such plan"),
	httpx.Rule(plans.ErrPlanRetired, http.StatusConflict, "plan_retired", "this plan is retired and can no longer be chosen"),
}

// RegisterHTTP adds the super-admin's tenant operations and the platform dashboard. It is
// idempotent per api, so tests may add the operations to an application that already has them.
func RegisterHTTP(api huma.API, s *Service) {
	if !httpx.Once(api, "platform-admin") {
		return
	}
	h := &handlers{s: s}
	tags := []string{"platform"}
	read := httpx.Perm(httpx.ScopePlatform, "tenants:read")
	httpx.Register(api, huma.Operation{
		OperationID: "list-tenants", Method: http.MethodGet, Path: "/api/v1/platform/tenants", Tags: tags,
		Summary: "Tenants by id: search by subdomain or name, filter by status and plan",
	}, read, h.list)
	httpx.Register(api, huma.Operation{
		OperationID: "get-tenant", Method: http.MethodGet, Path: "/api/v1/platform/tenants/{tenantId}", Tags: tags,
		Summary: "A tenant with its plan usage, GMV, orders, couriers and provisioning progress",
		Errors:  []int{http.StatusNotFound},
	}, read, h.get)
	suspend := httpx.Perm(httpx.ScopePlatform, "tenants:suspend")
	httpx.Register(api, huma.Operation{
		OperationID: "suspend-tenant", Method: http.MethodPost, Path: "/api/v1/platform/tenants/{tenantId}/suspend", Tags: tags,
		Summary: "Pause an active tenant's service",
		Description: "Its hosts answer tenant_suspended (a paused page in the browser) at once; no data is touched. " +
			"The reason is kept in the platform audit log and shown to the team.",
		Errors: []int{http.StatusNotFound, http.StatusConflict},
	}, suspend, h.suspend)
	httpx.Register(api, huma.Operation{
		OperationID: "resume-tenant", Method: http.MethodPost, Path: "/api/v1/platform/tenants/{tenantId}/resume", Tags: tags,
		Summary: "Put a suspended tenant back in service",
		Errors:  []int{http.StatusNotFound, http.StatusConflict},
	}, suspend, h.resume)
	httpx.Register(api, huma.Operation{
		OperationID: "set-tenant-plan", Method: http.MethodPut, Path: "/api/v1/platform/tenants/{tenantId}/plan", Tags: tags,
		Summary:     "Move a tenant to another plan",
		Description: "The new limits apply at once. Usage above the new limits is kept; the tenant is stopped at its next order, courier or seat.",
		Errors:      []int{http.StatusNotFound, http.StatusConflict},
	}, httpx.Perm(httpx.ScopePlatform, "billing:write"), h.setPlan)
	httpx.Register(api, huma.Operation{
		OperationID: "get-platform-dashboard", Method: http.MethodGet, Path: "/api/v1/platform/dashboard", Tags: tags,
		Summary: "Tenants by status, weekly signups, this month's orders and GMV, and MRR",
	}, read, h.dashboard)
}

type handlers struct{ s *Service }

func by(ctx context.Context) audit.Entry {
	p, _ := httpx.PrincipalFrom(ctx)
	return audit.Entry{Actor: p.Actor(), IP: httpx.ClientIP(ctx)}
}

type tenantListInput struct {
	Query  string `query:"q" maxLength:"100" doc:"Part of the subdomain or the name, case-insensitive."`
	Status string `query:"status" enum:"provisioning,active,suspended,deleted"`
	PlanID string `query:"plan" maxLength:"40" doc:"Only tenants on this plan."`
	Limit  int    `query:"limit" minimum:"1" maximum:"100" default:"50"`
	Offset int    `query:"offset" minimum:"0" maximum:"1000000" default:"0"`
}

type tenantListOutput struct {
	Body struct {
		Items []PlatformTenant `json:"items"`
		Total int64            `json:"total"`
	}
}

func (h *handlers) list(ctx context.Context, in *tenantListInput) (*tenantListOutput, error) {
	items, total, err := h.s.List(ctx, ListFilter{Query: in.Query, Status: tenancy.Status(in.Status), PlanID: in.PlanID,
		Limit: in.Limit, Offset: in.Offset})
	if err != nil {
		return nil, problems.Map(err)
	}
	out := &tenantListOutput{}
	out.Body.Items, out.Body.Total = items, total
	return out, nil
}

type tenantIDPath struct {
	TenantID int64 `path:"tenantId" minimum:"1"`
}

// PlatformTenantDetail is the super-admin's page of one tenant.
type PlatformTenantDetail struct {
	PlatformTenant
	Usage        *plans.PlanUsage     `json:"usage,omitempty" doc:"The plan and its limits against current usage; absent while the tenant is provisioning or deleted."`
	Figures      *TenantFigures       `json:"figures,omitempty" doc:"GMV, orders by status and couriers; absent while the tenant is provisioning or deleted."`
	Provisioning *provision.Progress  `json:"provisioning,omitempty" doc:"Provisioning progress while the tenant is provisioning, else absent."`
	Subscription *billing.BillingView `json:"subscription,omitempty" doc:"The billing subscription; absent for a tenant made by an operator without one."`
}

type tenantDetailOutput struct{ Body PlatformTenantDetail }

func (h *handlers) get(ctx context.Context, in *tenantIDPath) (*tenantDetailOutput, error) {
	d, err := h.s.Tenant(ctx, in.TenantID)
	if err != nil {
		return nil, problems.Map(err)
	}
	out := &tenantDetailOutput{Body: PlatformTenantDetail{PlatformTenant: d.PlatformTenant, Figures: d.Figures,
		Provisioning: d.Provisioning, Subscription: d.Subscription}}
	if u := d.Usage; u != nil {
		pu := &plans.PlanUsage{PeriodStart: u.PeriodStart, Items: make([]plans.UsageLine, 0, len(u.Items))}
		if u.Plan != nil {
			p := u.Plan
			pu.Plan = &plans.PlanOffer{ID: p.ID, Name: p.Name, Currency: p.Currency, MonthlyAmount: p.MonthlyAmount,
				YearlyAmount: p.YearlyAmount, TrialDays: p.TrialDays, Limits: p.Limits, Status: p.Status}
		}
		for _, it := range u.Items {
			pu.Items = append(pu.Items, plans.UsageLine{Limit: it.Kind, Used: it.Used, Max: it.Max})
		}
		out.Body.Usage = pu
	}
	return out, nil
}

// Inputs repeat the path parameter rather than embedding tenantIDPath: huma skips unexported
// embedded structs, so the id would silently stay 0.
type tenantStatusInput struct {
	TenantID int64 `path:"tenantId" minimum:"1"`
	Body     struct {
		Reason string `json:"reason" minLength:"1" maxLength:"200" doc:"Why; kept in the platform audit log and shown to the team."`
	}
}

type platformTenantOutput struct{ Body PlatformTenant }

func (h *handlers) suspend(ctx context.Context, in *tenantStatusInput) (*platformTenantOutput, error) {
	t, err := h.s.Suspend(ctx, in.TenantID, in.Body.Reason, by(ctx))
	if err != nil {
		return nil, problems.Map(err)
	}
	return &platformTenantOutput{Body: *t}, nil
}

func (h *handlers) resume(ctx context.Context, in *tenantStatusInput) (*platformTenantOutput, error) {
	t, err := h.s.Resume(ctx, in.TenantID, in.Body.Reason, by(ctx))
	if err != nil {
		return nil, problems.Map(err)
	}
	return &platformTenantOutput{Body: *t}, nil
}

type tenantPlanInput struct {
	TenantID int64 `path:"tenantId" minimum:"1"`
	Body     struct {
		PlanID string `json:"planId" minLength:"1" maxLength:"40" example:"pro"`
		Reason string `json:"reason" minLength:"1" maxLength:"200" doc:"Why; kept in the platform audit log."`
	}
}

func (h *handlers) setPlan(ctx context.Context, in *tenantPlanInput) (*platformTenantOutput, error) {
	t, err := h.s.SetPlan(ctx, in.TenantID, in.Body.PlanID, in.Body.Reason, by(ctx).Actor)
	if err != nil {
		return nil, problems.Map(err)
	}
	return &platformTenantOutput{Body: *t}, nil
}

type dashboardOutput struct{ Body PlatformDashboard }

func (h *handlers) dashboard(ctx context.Context, _ *struct{}) (*dashboardOutput, error) {
	d, err := h.s.Dashboard(ctx)
	if err != nil {
		return nil, problems.Map(err)
	}
	return &dashboardOutput{Body: *d}, nil
}
