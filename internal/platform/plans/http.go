package plans

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/paotui/paotui/internal/audit"
	"github.com/paotui/paotui/internal/httpx"
)

// problems is the HTTP meaning of the package's errors; *InvalidError also names its field
// and *LimitError carries its hint (see Problem).
var problems = httpx.ProblemTable{
	httpx.Rule(ErrPlanNotFound, http.StatusNotFound, "plan_not_found", "no such plan"),
	httpx.Rule(ErrInvalidPlan, http.StatusUnprocessableEntity, "plan_invalid", ""),
	httpx.Rule(ErrPlanExists, http.StatusConflict, "plan_exists", "a plan with this id exists; choose another id or edit that plan"),
	httpx.Rule(ErrPriceInUse, http.StatusConflict, "plan_price_in_use", "this Stripe price is attached to another plan"),
	httpx.Rule(ErrPlanRetired, http.StatusConflict, "plan_retired", ""),
	httpx.Rule(ErrLastActivePlan, http.StatusConflict, "last_active_plan", "offer another plan before retiring this one"),
	httpx.Rule(ErrTenantNotFound, http.StatusNotFound, "tenant_not_found", "no such tenant"),
}

func mapErr(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if p := Problem(ctx, err); p != err {
		return p
	}
	p, ok := problems.Map(err).(*httpx.Problem)
	if !ok {
		return err
	}
	var ie *InvalidError
	if errors.As(err, &ie) {
		p.Detail = ie.Field + ": " + ie.Reason
		p.Errors = []*huma.ErrorDetail{{Location: "body." + ie.Field, Message: ie.Reason}}
	}
	return p
}

// LimitProblem is the plan_limit_reached problem (HTTP 403): the usual problem+json members
// plus which limit was reached, the usage, and the plan that would lift it, so a console can
// offer the upgrade where the refusal happens. 403 rather than 409: nothing about the
// request or the resource's state is wrong; the account is not entitled to more, and retrying
// helps only after the plan changes.
type LimitProblem struct {
	*httpx.Problem
	Limit   Kind         `json:"limit" doc:"Which limit: orders_per_month, active_couriers, staff_seats or custom_domains."`
	Max     int64        `json:"max" doc:"The current plan's limit (0 for a feature the plan lacks)."`
	Current int64        `json:"current" doc:"Usage when the request was refused."`
	Upgrade *UpgradeHint `json:"upgrade,omitempty" doc:"The cheapest plan that allows more; absent when none does."`
}

// UpgradeHint is the plan a LimitProblem suggests.
type UpgradeHint struct {
	PlanID        string `json:"planId"`
	Name          Text   `json:"name"`
	Currency      string `json:"currency"`
	MonthlyAmount int64  `json:"monthlyAmount"`
	YearlyAmount  int64  `json:"yearlyAmount"`
	Max           *int64 `json:"max" doc:"That plan's limit; null is unlimited."`
}

// Problem returns the *LimitProblem for err when err is (or wraps) a *LimitError, and err
// itself otherwise. Domains whose operations call Check or Allow pass their errors through it
// before their own problem table:
//
//	if p := plans.Problem(ctx, err); p != err {
//		return nil, p
//	}
func Problem(ctx context.Context, err error) error {
	var le *LimitError
	if !errors.As(err, &le) {
		return err
	}
	p := httpx.NewProblem(http.StatusForbidden, "plan_limit_reached", "%s", limitDetail(le))
	p.Instance = httpx.RequestID(ctx)
	lp := &LimitProblem{Problem: p, Limit: le.Kind, Max: le.Max, Current: le.Current}
	if u := le.Upgrade; u != nil {
		lp.Upgrade = &UpgradeHint{PlanID: u.ID, Name: u.Name, Currency: u.Currency,
			MonthlyAmount: u.MonthlyAmount, YearlyAmount: u.YearlyAmount}
		if max, limited := u.Limits.Max(le.Kind); limited {
			lp.Upgrade.Max = &max
		}
	}
	return lp
}

func limitDetail(le *LimitError) string {
	var d string
	switch le.Kind {
	case KindOrdersPerMonth:
		d = fmt.Sprintf("this month's orders have reached the plan's limit of %d", le.Max)
	case KindActiveCouriers:
		d = fmt.Sprintf("the plan allows %d active couriers", le.Max)
	case KindStaffSeats:
		d = fmt.Sprintf("the plan allows %d staff members", le.Max)
	case KindCustomDomains:
		d = "the plan does not include custom domains"
	default:
		d = fmt.Sprintf("the plan's %s limit is %d", le.Kind, le.Max)
	}
	if le.Upgrade != nil {
		return d + "; the " + le.Upgrade.Name.EN + " plan allows more"
	}
	return d + "; contact us for a larger plan"
}

// RegisterHTTP adds list-plans (base host, public), the platform's plan operations and the
// tenant's get-plan-usage. It is idempotent per api, so tests may add the operations to an
// application that already has them.
func RegisterHTTP(api huma.API, s *Service) {
	if !httpx.Once(api, "plans") {
		return
	}
	h := &handlers{s: s}
	httpx.Register(api, huma.Operation{
		OperationID: "list-plans", Method: http.MethodGet, Path: "/api/v1/plans", Tags: []string{"signup"},
		Summary:     "The plans a campus team can sign up for, in pricing-page order",
		Description: "Names come in Chinese and English; amounts are minor units (分) for display; a null limit is unlimited.",
	}, httpx.Public(httpx.ScopeBase), h.listOffered)
	offered := httpx.Perm(httpx.ScopeTenant, "billing:read")
	offered.WhileSuspended = true
	httpx.Register(api, huma.Operation{
		OperationID: "list-offered-plans", Method: http.MethodGet, Path: "/api/v1/admin/billing/plans", Tags: []string{"billing"},
		Summary: "The plans the team can change to (the pricing page's list, on the team's own host)",
	}, offered, h.listOffered)

	tags := []string{"platform"}
	httpx.Register(api, huma.Operation{
		OperationID: "list-platform-plans", Method: http.MethodGet, Path: "/api/v1/platform/plans", Tags: tags,
		Summary: "Plans with their Stripe prices and how many tenants are on each",
	}, httpx.Perm(httpx.ScopePlatform, "plans:read"), h.listPlatform)
	write := httpx.Perm(httpx.ScopePlatform, "plans:write")
	httpx.Register(api, huma.Operation{
		OperationID: "create-plan", Method: http.MethodPost, Path: "/api/v1/platform/plans", Tags: tags,
		Summary: "Add a plan (offered at once)", DefaultStatus: http.StatusCreated, Errors: []int{http.StatusConflict},
	}, write, h.create)
	httpx.Register(api, huma.Operation{
		OperationID: "update-plan", Method: http.MethodPut, Path: "/api/v1/platform/plans/{planId}", Tags: tags,
		Summary:     "Change a plan's names, prices, Stripe prices, trial, limits and order",
		Description: "The whole plan is replaced: an absent Stripe price is detached, a null limit is unlimited. Tenants on the plan get the new limits at once.",
		Errors:      []int{http.StatusNotFound, http.StatusConflict},
	}, write, h.update)
	httpx.Register(api, huma.Operation{
		OperationID: "retire-plan", Method: http.MethodPost, Path: "/api/v1/platform/plans/{planId}/retire", Tags: tags,
		Summary:     "Stop offering a plan",
		Description: "Tenants on it keep it and its limits; nobody else can choose it. Retiring a retired plan changes nothing.",
		Errors:      []int{http.StatusNotFound, http.StatusConflict},
	}, write, h.retire)

	usage := httpx.Perm(httpx.ScopeTenant, "billing:read")
	// A team paused for an unpaid bill must still see what it is on.
	usage.WhileSuspended = true
	httpx.Register(api, huma.Operation{
		OperationID: "get-plan-usage", Method: http.MethodGet, Path: "/api/v1/admin/billing/usage", Tags: []string{"billing"},
		Summary: "The team's plan, its limits and how much of each is used",
		Description: "Orders count from the first of the month in the team's time zone; orders that expired or were " +
			"cancelled before payment do not count. Active couriers are approved ones; a staff seat is a user holding " +
			"owner, admin, dispatcher, finance or support (several roles take one seat).",
	}, usage, h.usage)
}

type handlers struct{ s *Service }

func by(ctx context.Context) audit.Entry {
	p, _ := httpx.PrincipalFrom(ctx)
	return audit.Entry{Actor: p.Actor(), IP: httpx.ClientIP(ctx)}
}

// PlanOffer is a plan as a campus team sees it: no Stripe ids.
type PlanOffer struct {
	ID            string `json:"id" example:"pro"`
	Name          Text   `json:"name"`
	Currency      string `json:"currency" example:"cny"`
	MonthlyAmount int64  `json:"monthlyAmount" doc:"Minor units (分)."`
	YearlyAmount  int64  `json:"yearlyAmount" doc:"Minor units (分)."`
	TrialDays     int    `json:"trialDays"`
	Limits        Limits `json:"limits"`
	Status        Status `json:"status" enum:"active,retired"`
}

func offer(p Plan) PlanOffer {
	return PlanOffer{ID: p.ID, Name: p.Name, Currency: p.Currency, MonthlyAmount: p.MonthlyAmount,
		YearlyAmount: p.YearlyAmount, TrialDays: p.TrialDays, Limits: p.Limits, Status: p.Status}
}

type planPageInput struct {
	Limit  int `query:"limit" minimum:"1" maximum:"100" default:"50"`
	Offset int `query:"offset" minimum:"0" maximum:"100000" default:"0"`
}

type planOfferListOutput struct {
	Body struct {
		Items []PlanOffer `json:"items"`
		Total int64       `json:"total"`
	}
}

func (h *handlers) listOffered(ctx context.Context, in *planPageInput) (*planOfferListOutput, error) {
	list, total, err := h.s.List(ctx, ListFilter{Limit: in.Limit, Offset: in.Offset})
	if err != nil {
		return nil, mapErr(ctx, err)
	}
	out := &planOfferListOutput{}
	out.Body.Items, out.Body.Total = make([]PlanOffer, 0, len(list)), total
	for _, p := range list {
		out.Body.Items = append(out.Body.Items, offer(p))
	}
	return out, nil
}

// PlatformPlan is a plan as super-admins manage it.
type PlatformPlan struct {
	Plan
	TenantCount int64 `json:"tenantCount" doc:"Tenants (not deleted) on this plan."`
}

type platformPlanListInput struct {
	IncludeRetired bool `query:"includeRetired" doc:"Also list retired plans."`
	Limit          int  `query:"limit" minimum:"1" maximum:"100" default:"50"`
	Offset         int  `query:"offset" minimum:"0" maximum:"100000" default:"0"`
}

type platformPlanListOutput struct {
	Body struct {
		Items []PlatformPlan `json:"items"`
		Total int64          `json:"total"`
	}
}

func (h *handlers) listPlatform(ctx context.Context, in *platformPlanListInput) (*platformPlanListOutput, error) {
	list, total, err := h.s.List(ctx, ListFilter{IncludeRetired: in.IncludeRetired, Limit: in.Limit, Offset: in.Offset})
	if err != nil {
		return nil, mapErr(ctx, err)
	}
	counts, err := h.s.TenantCounts(ctx)
	if err != nil {
		return nil, err
	}
	out := &platformPlanListOutput{}
	out.Body.Items, out.Body.Total = make([]PlatformPlan, 0, len(list)), total
	for _, p := range list {
		out.Body.Items = append(out.Body.Items, PlatformPlan{Plan: p, TenantCount: counts[p.ID]})
	}
	return out, nil
}

// PlanEdit is a plan's new state as a super-admin sends it.
type PlanEdit struct {
	Name          Text         `json:"name"`
	Currency      string       `json:"currency" minLength:"3" maxLength:"3" example:"cny"`
	MonthlyAmount int64        `json:"monthlyAmount" minimum:"0" doc:"Display price per month, minor units (分)."`
	YearlyAmount  int64        `json:"yearlyAmount" minimum:"0" doc:"Display price per year, minor units (分)."`
	TrialDays     int          `json:"trialDays" minimum:"0" maximum:"365"`
	Prices        StripePrices `json:"stripePrices,omitempty" doc:"Stripe price ids; a price left out is detached."`
	Limits        Limits       `json:"limits" doc:"Every limit must be given: a number, or null for unlimited."`
	Sort          int          `json:"sort,omitempty" doc:"Pricing-page order, ascending."`
}

// PlanDraft is a new plan as a super-admin sends it.
type PlanDraft struct {
	ID string `json:"id" minLength:"2" maxLength:"40" example:"pro" doc:"Stable key: lowercase letters, digits, _ or -."`
	PlanEdit
}

func (e PlanEdit) plan(id string) Plan {
	return Plan{ID: id, Name: e.Name, Currency: e.Currency, MonthlyAmount: e.MonthlyAmount, YearlyAmount: e.YearlyAmount,
		TrialDays: e.TrialDays, Prices: e.Prices, Limits: e.Limits, Sort: e.Sort}
}

type createPlanInput struct{ Body PlanDraft }

type planOutput struct{ Body Plan }

func (h *handlers) create(ctx context.Context, in *createPlanInput) (*planOutput, error) {
	p, err := h.s.Create(ctx, in.Body.plan(in.Body.ID), by(ctx))
	if err != nil {
		return nil, mapErr(ctx, err)
	}
	return &planOutput{Body: p}, nil
}

type updatePlanInput struct {
	PlanID string `path:"planId" maxLength:"40"`
	Body   PlanEdit
}

func (h *handlers) update(ctx context.Context, in *updatePlanInput) (*planOutput, error) {
	if _, err := h.s.Get(ctx, in.PlanID); err != nil {
		return nil, mapErr(ctx, err)
	}
	p, err := h.s.Update(ctx, in.Body.plan(in.PlanID), by(ctx))
	if err != nil {
		return nil, mapErr(ctx, err)
	}
	return &planOutput{Body: p}, nil
}

type planIDPath struct {
	PlanID string `path:"planId" maxLength:"40"`
}

func (h *handlers) retire(ctx context.Context, in *planIDPath) (*planOutput, error) {
	p, err := h.s.Retire(ctx, in.PlanID, by(ctx))
	if err != nil {
		return nil, mapErr(ctx, err)
	}
	return &planOutput{Body: p}, nil
}

// PlanUsage is a tenant's plan, its limits and their usage.
type PlanUsage struct {
	Plan        *PlanOffer  `json:"plan,omitempty" doc:"Absent: the team has no plan and nothing is limited."`
	PeriodStart time.Time   `json:"periodStart" doc:"Orders are counted from here: the first of the month in the team's time zone."`
	Items       []UsageLine `json:"items"`
}

// UsageLine is one limit and its usage.
type UsageLine struct {
	Limit Kind   `json:"limit" enum:"orders_per_month,active_couriers,staff_seats,custom_domains"`
	Used  int64  `json:"used"`
	Max   *int64 `json:"max" doc:"null is unlimited; 0 means the plan lacks the feature."`
}

type planUsageOutput struct{ Body PlanUsage }

func (h *handlers) usage(ctx context.Context, _ *struct{}) (*planUsageOutput, error) {
	u, err := h.s.Usage(ctx, httpx.HostFrom(ctx).Tenant)
	if err != nil {
		return nil, mapErr(ctx, err)
	}
	out := &planUsageOutput{Body: PlanUsage{PeriodStart: u.PeriodStart, Items: make([]UsageLine, 0, len(u.Items))}}
	if u.Plan != nil {
		o := offer(*u.Plan)
		out.Body.Plan = &o
	}
	for _, it := range u.Items {
		out.Body.Items = append(out.Body.Items, UsageLine{Limit: it.Kind, Used: it.Used, Max: it.Max})
	}
	return out, nil
}
