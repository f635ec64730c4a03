package httpx

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/paotui/paotui/internal/platform/tenancy"
)

// Headers on every response to a request made in a support session, so any client (and the
// admin UI's banner) can tell that a platform admin is acting and until when.
const (
	ImpersonatorHeader         = "X-Paotui-Impersonator"
	ImpersonationExpiresHeader = "X-Paotui-Impersonation-Expires"
)

// ImpersonationAudit records a request made in a support session after it ran; the identity
// domain implements it through the wiring.
type ImpersonationAudit interface {
	RecordImpersonated(ctx context.Context, t *tenancy.Tenant, p *Principal, operation, method string, status int) error
}

// impersonationAuditTimeout bounds the audit write that follows a support-session request.
const impersonationAuditTimeout = 5 * time.Second

// banner sets the support-session headers. It runs before the operation writes anything.
func banner(ctx huma.Context, p *Principal) {
	ctx.SetHeader(ImpersonatorHeader, p.ImpersonatorID)
	ctx.SetHeader(ImpersonationExpiresHeader, p.ImpersonationExpiresAt.UTC().Format(time.RFC3339))
}

// recordsImpersonated says which support-session requests are audited: all but reads, which
// change nothing and would drown the log.
func recordsImpersonated(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// recordImpersonated is deferred by the gate around a support-session request that changes
// something, so the request is audited with the status it got, refusals included. A panic
// is audited as a 500 and carries on to the recoverer.
func (s *Server) recordImpersonated(ctx huma.Context, t *tenancy.Tenant, p *Principal) {
	status := ctx.Status()
	r := recover()
	if r != nil {
		status = http.StatusInternalServerError
	}
	if status == 0 {
		status = http.StatusOK
	}
	// The request is over: a client that went away must not cancel its audit.
	c, cancel := context.WithTimeout(context.WithoutCancel(ctx.Context()), impersonationAuditTimeout)
	defer cancel()
	if err := s.impAudit.RecordImpersonated(c, t, p, info(ctx.Context()).operation, ctx.Method(), status); err != nil {
		logFault(ctx.Context(), "audit support-session request", []error{fmt.Errorf("session %s: %w", p.ImpersonationID, err)})
	}
	if r != nil {
		panic(r)
	}
}
