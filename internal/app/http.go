package app

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/hibiken/asynq"

	"github.com/paotui/paotui/internal/authz"
	"github.com/paotui/paotui/internal/branding"
	"github.com/paotui/paotui/internal/catalog"
	"github.com/paotui/paotui/internal/couriers"
	"github.com/paotui/paotui/internal/dispatch"
	"github.com/paotui/paotui/internal/httpx"
	"github.com/paotui/paotui/internal/identity"
	"github.com/paotui/paotui/internal/jobs"
	"github.com/paotui/paotui/internal/ledger"
	"github.com/paotui/paotui/internal/orderchat"
	"github.com/paotui/paotui/internal/orders"
	"github.com/paotui/paotui/internal/payments"
	"github.com/paotui/paotui/internal/places"
	"github.com/paotui/paotui/internal/platform/admin"
	"github.com/paotui/paotui/internal/platform/billing"
	"github.com/paotui/paotui/internal/platform/domains"
	"github.com/paotui/paotui/internal/platform/lifecycle"
	"github.com/paotui/paotui/internal/platform/plans"
	"github.com/paotui/paotui/internal/platform/signup"
	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/reports"
	"github.com/paotui/paotui/internal/settings"
	"github.com/paotui/paotui/internal/tracking"
)

// verifier adapts identity's token parsing to the HTTP gate.
type verifier struct{ id *identity.Service }

func (v verifier) VerifyTenant(ctx context.Context, t *tenancy.Tenant, token string) (*httpx.Principal, error) {
	c, err := v.id.VerifyAccess(ctx, t, token)
	if err != nil {
		return nil, identity.TokenProblem(err)
	}
	p := &httpx.Principal{UserID: c.UserID, ImpersonatorID: c.Imp}
	if c.Imp != "" {
		p.ImpersonationID, p.ImpersonationExpiresAt = c.TokenID, c.ExpiresAt
	}
	return p, nil
}

// impersonationAudit records support-session requests through identity.
type impersonationAudit struct{ id *identity.Service }

func (a impersonationAudit) RecordImpersonated(ctx context.Context, t *tenancy.Tenant, p *httpx.Principal, op, method string, status int) error {
	return a.id.RecordImpersonatedRequest(ctx, t, identity.ImpersonatedRequest{SessionID: p.ImpersonationID,
		AdminID: p.ImpersonatorID, UserID: p.UserID, Actor: p.Actor(), Operation: op, Method: method, Status: status,
		IP: httpx.ClientIP(ctx)})
}

func (v verifier) VerifyPlatform(_ context.Context, token string) (*httpx.Principal, error) {
	c, err := v.id.ParsePlatformToken(token)
	if err != nil {
		return nil, err
	}
	return &httpx.Principal{UserID: c.AdminID, Platform: true, AdminRole: string(c.Role)}, nil
}

// roleProblems is the HTTP meaning of authz's errors where operations surface them.
var roleProblems = httpx.ProblemTable{
	{Err: authz.ErrUnknownRole, Status: http.StatusUnprocessableEntity, Code: "unknown_role", Detail: "no such role in this service"},
	{Err: authz.ErrLastOwner, Status: http.StatusConflict, Code: "last_owner", Detail: "a service must keep at least one owner"},
}

// Domains that surface another domain's errors map them through that domain's table; set
// once, before any server exists.
func init() {
	identity.RoleProblems = roleProblems
	orders.PaymentProblems = payments.Problems
	orders.CourierProblems = couriers.Problems
	orders.PhotoProblems = orderchat.Problems
	// A plan limit can surface from any operation that creates something it counts.
	httpx.MapErrors(plans.Problem)
	// Billing's errors reach the platform's set-tenant-plan (Stripe keeps the plan in step).
	httpx.MapErrors(func(_ context.Context, err error) error { return billing.Problems.Map(err) })
	dispatch.OrderProblems = append(append(httpx.ProblemTable{}, orders.Problems...), couriers.Problems...)
}

// registerOperations is the one list of every domain's HTTP operations.
func (a *App) registerOperations(srv *httpx.Server) {
	identity.RegisterHTTP(srv.API, a.Identity, a.Authz)
	catalog.RegisterHTTP(srv.API, a.DB)
	catalog.RegisterAdminHTTP(srv.API, a.DB)
	places.RegisterHTTP(srv.API, a.DB)
	places.RegisterAdminHTTP(srv.API, a.DB)
	orders.RegisterHTTP(srv.API, a.Orders)
	orders.RegisterTripHTTP(srv.API, a.Orders, hallLocator{a.Tracking})
	orders.RegisterLiveHTTP(srv.API, a.Orders, a.Hub, a.Chat)
	dispatch.RegisterHTTP(srv.API, a.Dispatch)
	tracking.RegisterHTTP(srv.API, a.Tracking)
	couriers.RegisterHTTP(srv.API, a.Couriers)
	orderchat.RegisterHTTP(srv.API, a.Chat)
	plans.RegisterHTTP(srv.API, a.Plans)
	domains.RegisterHTTP(srv.API, a.Domains)
	lifecycle.RegisterHTTP(srv.API, a.Lifecycle)
	admin.RegisterHTTP(srv.API, admin.New(a.DB, a.Registry, a.Resolver, a.Plans, a.Log).WithProvisioning(a.Provision).WithBilling(a.Billing))
	admin.RegisterImpersonationHTTP(srv.API, admin.NewImpersonations(a.DB, a.Registry, a.Identity, a.Authz, a.Cfg.Auth.ImpersonationTTL), a.Cfg)
	settings.RegisterHTTP(srv.API, settings.NewService(a.DB))
	branding.RegisterHTTP(srv.API, branding.NewService(a.DB, a.Registry, a.Resolver).WithFiles(a.Files))
	signup.RegisterHTTP(srv.API, a.Registry, a.Signup)
	billing.RegisterHTTP(srv.API, a.Billing, a.Cfg.Billing.WebhookSecret.Reveal())
	reports.RegisterHTTP(srv.API, reports.New(a.DB))
	ledger.RegisterHTTP(srv.API, ledger.NewReports(a.DB))
	payments.RegisterHTTP(srv.API, a.Payments, a.Cfg.Stripe.WebhookSecret.Reveal())
	payments.RegisterWalletHTTP(srv.API, a.Payments)
	a.registerPlatformOps(srv.API)
}

type jobHealth struct {
	Body struct {
		Queues              []jobs.QueueStat `json:"queues"`
		OutboxPending       int64            `json:"outboxPending" doc:"Outbox rows not yet handed to the queue."`
		OutboxOldestSeconds float64          `json:"outboxOldestSeconds" doc:"Age of the oldest pending outbox row."`
	}
}

func (a *App) registerPlatformOps(api huma.API) {
	httpx.Register(api, huma.Operation{
		OperationID: "get-job-health", Method: http.MethodGet, Path: "/api/v1/platform/jobs", Tags: []string{"platform"},
		Summary: "Background job queues: sizes, failures (archived tasks) and outbox backlog",
	}, httpx.Perm(httpx.ScopePlatform, "jobs:read"), func(ctx context.Context, _ *struct{}) (*jobHealth, error) {
		insp := asynq.NewInspector(a.RedisOpt)
		defer insp.Close()
		out := &jobHealth{}
		var err error
		if out.Body.Queues, err = jobs.QueueStats(ctx, insp); err != nil {
			return nil, err
		}
		n, oldest, err := a.Outbox.Pending(ctx, a.DB.Gorm)
		if err != nil {
			return nil, err
		}
		out.Body.OutboxPending, out.Body.OutboxOldestSeconds = n, oldest.Seconds()
		return out, nil
	})
}

// activeTenants lists the tenants periodic sweeps visit.
type activeTenants struct{ reg *tenancy.Registry }

func (a activeTenants) Active(ctx context.Context) ([]tenancy.Tenant, error) {
	list, _, err := a.reg.List(ctx, tenancy.ListFilter{Status: tenancy.StatusActive, Limit: 1 << 30})
	return list, err
}
