package billing

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/paotui/paotui/internal/audit"
	"github.com/paotui/paotui/internal/httpx"
	"github.com/paotui/paotui/internal/platform/plans"
	"github.com/paotui/paotui/internal/platform/tenancy"
)

// Problems is the HTTP meaning of the package's errors.
var Problems = httpx.ProblemTable{
	httpx.Rule(ErrBadSignature, http.StatusBadRequest, "stripe_signature_invalid", "the Stripe-Signature header does not verify"),
	httpx.Rule(ErrBadEvent, http.StatusBadRequest, "stripe_event_invalid", "the body is not a Stripe event of the expected API version"),
	httpx.Rule(ErrNotConfigured, http.StatusConflict, "billing_not_configured", "paid plans are not available on this platform yet"),
	httpx.Rule(ErrNotPurchasable, http.StatusConflict, "plan_not_purchasable", "this plan cannot be bought for this billing interval yet"),
	httpx.Rule(ErrNoSubscription, http.StatusNotFound, "subscription_not_found", "this team has no subscription"),
	httpx.Rule(ErrNoCustomer, http.StatusConflict, "billing_no_customer", "nothing has been billed yet, so there is no billing portal"),
	httpx.Rule(ErrNotTrialing, http.StatusConflict, "subscription_not_trialing", "only a subscription in its trial can have the trial extended"),
	httpx.Rule(ErrSamePlan, http.StatusConflict, "plan_unchanged", "the team already has this plan and billing interval"),
	httpx.Rule(ErrCheckoutPending, http.StatusConflict, "checkout_pending", "a checkout is still open: complete it first"),
	httpx.Rule(ErrProvider, http.StatusBadGateway, "billing_provider_error", "the billing provider did not answer or refused; try again"),
	httpx.Rule(ErrInvalid, http.StatusUnprocessableEntity, "billing_invalid", ""),
	httpx.Rule(plans.ErrPlanNotFound, http.StatusNotFound, "plan_not_found", "no such plan"),
	httpx.Rule(plans.ErrPlanRetired, http.StatusConflict, "plan_retired", "this plan is retired and can no longer be chosen"),
	httpx.Rule(tenancy.ErrNotFound, http.StatusNotFound, "tenant_not_found", "no such tenant"),
}

func mapErr(err error) error {
	var de *DowngradeError
	if errors.As(err, &de) {
		p := httpx.NewProblem(http.StatusConflict, "plan_downgrade_blocked",
			"the team uses more than plan %s allows; reduce usage first", de.Plan)
		for _, l := range de.Limits {
			p.Errors = append(p.Errors, &huma.ErrorDetail{Location: "body.planId", Value: string(l.Kind),
				Message: fmt.Sprintf("%s: used %d, the plan allows %d", l.Kind, l.Used, *l.Max)})
		}
		return p
	}
	return Problems.Map(err)
}

type webhookInput struct {
	Signature string `header:"Stripe-Signature" doc:"Stripe's signature of the raw body."`
	// RawBody is the body exactly as sent: the signature covers these bytes.
	RawBody []byte
}

type webhookOutput struct {
	Body struct {
		Received  bool `json:"received"`
		Duplicate bool `json:"duplicate" doc:"The event was received before and changed nothing."`
	}
}

type viewOutput struct{ Body BillingView }

type changePlanInput struct {
	Body struct {
		PlanID   string   `json:"planId" minLength:"1" maxLength:"40"`
		Interval Interval `json:"interval" enum:"month,year" default:"month"`
	}
}

type portalOutput struct {
	Body struct {
		URL string `json:"url" doc:"Stripe's customer portal for this team; open it in the browser."`
	}
}

type invoicePage struct {
	Limit  int `query:"limit" minimum:"1" maximum:"100" default:"20"`
	Offset int `query:"offset" minimum:"0" maximum:"1000000" default:"0"`
}

type invoiceListOutput struct {
	Body struct {
		Items []TenantInvoice `json:"items"`
		Total int64           `json:"total"`
	}
}

// The page fields are repeated rather than embedding invoicePage: huma skips unexported
// embedded structs, so they would silently stay zero.
type tenantInvoicesInput struct {
	TenantID int64 `path:"tenantId" minimum:"1"`
	Limit    int   `query:"limit" minimum:"1" maximum:"100" default:"20"`
	Offset   int   `query:"offset" minimum:"0" maximum:"1000000" default:"0"`
}

type extendTrialInput struct {
	TenantID int64 `path:"tenantId" minimum:"1"`
	Body     struct {
		Days   int    `json:"days" minimum:"1" maximum:"90"`
		Reason string `json:"reason" minLength:"1" maxLength:"200"`
	}
}

type tenantPath struct {
	TenantID int64 `path:"tenantId" minimum:"1"`
}

// RegisterHTTP adds the billing webhook (base host), the owner's billing operations (tenant
// host, allowed while paused so a team can pay its way back) and the platform's.
func RegisterHTTP(api huma.API, s *Service, webhookSecret string) {
	if !httpx.Once(api, "billing") {
		return
	}
	httpx.Register(api, huma.Operation{
		OperationID: "stripe-billing-webhook", Method: http.MethodPost, Path: "/api/v1/webhooks/stripe-billing", Tags: []string{"billing"},
		Summary: "Receive a Stripe Billing webhook event",
		Description: "Checkout, subscription and invoice events of tenants' subscriptions. The signature is verified on the " +
			"raw body; an event id seen before is acknowledged and changes nothing; the event is applied by a job.",
		Errors: []int{http.StatusBadRequest},
	}, httpx.Public(httpx.ScopeBase), func(ctx context.Context, in *webhookInput) (*webhookOutput, error) {
		dup, err := s.Receive(ctx, in.RawBody, in.Signature, webhookSecret)
		if err != nil {
			return nil, Problems.Map(err)
		}
		out := &webhookOutput{}
		out.Body.Received, out.Body.Duplicate = true, dup
		return out, nil
	})

	tags := []string{"billing"}
	read := httpx.Perm(httpx.ScopeTenant, "billing:read")
	read.WhileSuspended = true
	write := httpx.Perm(httpx.ScopeTenant, "billing:write")
	write.WhileSuspended = true
	httpx.Register(api, huma.Operation{
		OperationID: "get-billing", Method: http.MethodGet, Path: "/api/v1/admin/billing", Tags: tags,
		Summary: "The team's subscription: plan, status, trial, grace period and the banner to show",
		Errors:  []int{http.StatusNotFound},
	}, read, func(ctx context.Context, _ *struct{}) (*viewOutput, error) {
		v, err := s.Get(ctx, httpx.HostFrom(ctx).Tenant)
		if err != nil {
			return nil, mapErr(err)
		}
		return &viewOutput{Body: *v}, nil
	})
	httpx.Register(api, huma.Operation{
		OperationID: "change-plan", Method: http.MethodPut, Path: "/api/v1/admin/billing/plan", Tags: tags,
		Summary: "Upgrade or downgrade the team's plan",
		Description: "A paid subscription changes at once with Stripe's proration; from a free plan a Checkout session opens " +
			"(checkoutUrl) and the plan changes when it is paid. A plan whose limits the team already exceeds is refused.",
		Errors: []int{http.StatusNotFound, http.StatusConflict, http.StatusBadGateway},
	}, write, func(ctx context.Context, in *changePlanInput) (*viewOutput, error) {
		p, _ := httpx.PrincipalFrom(ctx)
		v, err := s.ChangePlan(ctx, httpx.HostFrom(ctx).Tenant, in.Body.PlanID, in.Body.Interval, p.Actor())
		if err != nil {
			return nil, mapErr(err)
		}
		return &viewOutput{Body: *v}, nil
	})
	httpx.Register(api, huma.Operation{
		OperationID: "create-billing-portal-session", Method: http.MethodPost, Path: "/api/v1/admin/billing/portal", Tags: tags,
		Summary: "A link to Stripe's customer portal: payment methods, invoices, cancellation",
		Errors:  []int{http.StatusConflict, http.StatusBadGateway},
	}, write, func(ctx context.Context, _ *struct{}) (*portalOutput, error) {
		u, err := s.PortalURL(ctx, httpx.HostFrom(ctx).Tenant)
		if err != nil {
			return nil, mapErr(err)
		}
		out := &portalOutput{}
		out.Body.URL = u
		return out, nil
	})
	httpx.Register(api, huma.Operation{
		OperationID: "list-invoices", Method: http.MethodGet, Path: "/api/v1/admin/billing/invoices", Tags: tags,
		Summary: "The team's invoices, newest first",
	}, read, func(ctx context.Context, in *invoicePage) (*invoiceListOutput, error) {
		return invoiceList(ctx, s, httpx.HostFrom(ctx).Tenant.ID, *in)
	})

	ptags := []string{"platform"}
	httpx.Register(api, huma.Operation{
		OperationID: "list-tenant-invoices", Method: http.MethodGet, Path: "/api/v1/platform/tenants/{tenantId}/invoices", Tags: ptags,
		Summary: "A tenant's invoices, newest first",
	}, httpx.Perm(httpx.ScopePlatform, "billing:read"), func(ctx context.Context, in *tenantInvoicesInput) (*invoiceListOutput, error) {
		return invoiceList(ctx, s, in.TenantID, invoicePage{Limit: in.Limit, Offset: in.Offset})
	})
	httpx.Register(api, huma.Operation{
		OperationID: "get-tenant-subscription", Method: http.MethodGet, Path: "/api/v1/platform/tenants/{tenantId}/subscription", Tags: ptags,
		Summary: "A tenant's subscription",
		Errors:  []int{http.StatusNotFound},
	}, httpx.Perm(httpx.ScopePlatform, "tenants:read"), func(ctx context.Context, in *tenantPath) (*viewOutput, error) {
		v, err := s.ViewOf(ctx, in.TenantID)
		if err == nil && v == nil {
			err = ErrNoSubscription
		}
		if err != nil {
			return nil, mapErr(err)
		}
		return &viewOutput{Body: *v}, nil
	})
	httpx.Register(api, huma.Operation{
		OperationID: "extend-trial", Method: http.MethodPost, Path: "/api/v1/platform/tenants/{tenantId}/trial", Tags: ptags,
		Summary: "Give a tenant in its trial more days",
		Errors:  []int{http.StatusNotFound, http.StatusConflict, http.StatusBadGateway},
	}, httpx.Perm(httpx.ScopePlatform, "billing:write"), func(ctx context.Context, in *extendTrialInput) (*viewOutput, error) {
		p, _ := httpx.PrincipalFrom(ctx)
		v, err := s.ExtendTrial(ctx, in.TenantID, in.Body.Days, in.Body.Reason,
			audit.Entry{Actor: p.Actor(), IP: httpx.ClientIP(ctx)})
		if err != nil {
			return nil, mapErr(err)
		}
		return &viewOutput{Body: *v}, nil
	})
}

func invoiceList(ctx context.Context, s *Service, tenantID int64, pg invoicePage) (*invoiceListOutput, error) {
	items, total, err := s.Invoices(ctx, tenantID, pg.Limit, pg.Offset)
	if err != nil {
		return nil, mapErr(err)
	}
	out := &invoiceListOutput{}
	out.Body.Items, out.Body.Total = items, total
	return out, nil
}
