package admin

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/paotui/paotui/internal/config"
	"github.com/paotui/paotui/internal/httpx"
	"github.com/paotui/paotui/internal/identity"
)

// impersonationProblems is the HTTP meaning of the support-session errors.
var impersonationProblems = httpx.ProblemTable{
	httpx.Rule(ErrTenantNotFound, http.StatusNotFound, "tenant_not_found", "no such tenant"),
	httpx.Rule(ErrTenantProvisioning, http.StatusConflict, "tenant_provisioning",
		"the tenant is still being set up; there is no one to act as yet"),
	httpx.Rule(ErrTenantDeleted, http.StatusConflict, "tenant_deleted", "the tenant is deleted"),
	httpx.Rule(ErrImpersonationReason, http.StatusUnprocessableEntity, "reason_required", ""),
	httpx.Rule(ErrImpersonationTTL, http.StatusUnprocessableEntity, "impersonation_ttl_out_of_range", ""),
	httpx.Rule(ErrNotImpersonable, http.StatusUnprocessableEntity, "impersonation_user_not_staff", ""),
	httpx.Rule(ErrNoOwner, http.StatusConflict, "tenant_has_no_owner",
		"the tenant has no active owner; choose an admin with userId"),
	httpx.Rule(identity.ErrUserNotFound, http.StatusNotFound, "user_not_found", "no such user in this tenant"),
	httpx.Rule(identity.ErrUserDisabled, http.StatusConflict, "impersonation_user_disabled",
		"this user is disabled; choose another owner or admin"),
	httpx.Rule(identity.ErrAdminDisabled, http.StatusForbidden, "account_disabled", "your platform account is disabled"),
	httpx.Rule(identity.ErrImpersonationNotFound, http.StatusNotFound, "impersonation_not_found", "no such support session"),
}

// RegisterImpersonationHTTP adds impersonate-tenant and end-impersonation; cfg names the
// tenant hosts in the reply. It is idempotent per api, as RegisterHTTP is.
func RegisterImpersonationHTTP(api huma.API, s *Impersonations, cfg *config.Config) {
	if !httpx.Once(api, "platform-impersonation") {
		return
	}
	h := &impersonationHandlers{s: s, cfg: cfg}
	tags := []string{"platform"}
	perm := httpx.Perm(httpx.ScopePlatform, "tenants:impersonate")
	httpx.Register(api, huma.Operation{
		OperationID: "impersonate-tenant", Method: http.MethodPost, Path: "/api/v1/platform/tenants/{tenantId}/impersonate", Tags: tags,
		Summary: "Open a support session as a tenant's owner or admin",
		Description: "Returns a tenant access token for the tenant's host, valid until expiresAt (at most auth.impersonation_ttl) " +
			"and without a refresh token. Every response to it carries X-Paotui-Impersonator and X-Paotui-Impersonation-Expires; " +
			"every request that is not a read is recorded in the tenant's audit log and the platform's. Once expired it is refused " +
			"with impersonation_expired, once ended (end-impersonation, or the admin disabled) with impersonation_ended.",
		DefaultStatus: http.StatusCreated,
		Errors:        []int{http.StatusNotFound, http.StatusConflict},
	}, perm, h.start)
	httpx.Register(api, huma.Operation{
		OperationID: "end-impersonation", Method: http.MethodDelete, Path: "/api/v1/platform/impersonations/{impersonationId}", Tags: tags,
		Summary:       "End a support session early",
		Description:   "Its token is refused with impersonation_ended from the next request on. Ending an ended session is a no-op.",
		DefaultStatus: http.StatusNoContent,
		Errors:        []int{http.StatusNotFound},
	}, perm, h.end)
}

type impersonationHandlers struct {
	s   *Impersonations
	cfg *config.Config
}

type impersonateInput struct {
	TenantID int64 `path:"tenantId" minimum:"1"`
	Body     struct {
		Reason           string `json:"reason" minLength:"1" maxLength:"500" doc:"Why support needs to act as the user (ticket number, request); kept in both audit logs."`
		UserID           string `json:"userId,omitempty" format:"uuid" doc:"An owner or admin of the tenant; default the tenant's owner."`
		ExpiresInSeconds int    `json:"expiresInSeconds,omitempty" minimum:"1" doc:"Session length; default and maximum auth.impersonation_ttl (30 minutes unless configured)."`
	}
}

// ImpersonationView is an open support session and how to use it.
type ImpersonationView struct {
	ImpersonationID string    `json:"impersonationId" format:"uuid"`
	Token           string    `json:"token" doc:"Bearer access token for the tenant's host; no refresh token."`
	TokenType       string    `json:"tokenType" example:"Bearer"`
	ExpiresAt       time.Time `json:"expiresAt"`
	UserID          string    `json:"userId" format:"uuid" doc:"The tenant user acted as."`
	TenantID        int64     `json:"tenantId"`
	TenantHost      string    `json:"tenantHost" example:"demo.paotui.example" doc:"Send the token to this host."`
	AdminURL        string    `json:"adminUrl" example:"https://demo.paotui.example/admin" doc:"The tenant's admin app."`
}

type impersonateOutput struct{ Body ImpersonationView }

func (h *impersonationHandlers) start(ctx context.Context, in *impersonateInput) (*impersonateOutput, error) {
	p, _ := httpx.PrincipalFrom(ctx)
	st, err := h.s.Start(ctx, StartRequest{TenantID: in.TenantID, AdminID: p.UserID, UserID: in.Body.UserID,
		Reason: in.Body.Reason, TTL: time.Duration(in.Body.ExpiresInSeconds) * time.Second, IP: httpx.ClientIP(ctx)})
	if err != nil {
		return nil, impersonationProblems.Map(err)
	}
	host := st.Tenant.Slug + "." + h.cfg.BaseDomain
	return &impersonateOutput{Body: ImpersonationView{ImpersonationID: st.Session.ID, Token: st.Token, TokenType: identity.TokenType,
		ExpiresAt: st.Session.ExpiresAt, UserID: st.Session.UserID, TenantID: st.Tenant.ID, TenantHost: host,
		AdminURL: h.cfg.PublicURL(host) + "/admin"}}, nil
}

type endImpersonationInput struct {
	ImpersonationID string `path:"impersonationId" format:"uuid"`
}

func (h *impersonationHandlers) end(ctx context.Context, in *endImpersonationInput) (*struct{}, error) {
	p, _ := httpx.PrincipalFrom(ctx)
	if err := h.s.End(ctx, in.ImpersonationID, p.UserID, httpx.ClientIP(ctx)); err != nil {
		return nil, impersonationProblems.Map(err)
	}
	return &struct{}{}, nil
}
