package httpx

import (
	"context"
	"log/slog"
	"time"

	"github.com/paotui/paotui/internal/platform/tenancy"
)

// Principal is who is calling: a tenant user or a platform admin.
type Principal struct {
	// UserID is the tenant user's id (tenant hosts) or the platform admin's id (platform host).
	UserID string
	// Platform is true for platform admins; AdminRole is then owner, support or finance.
	Platform  bool
	AdminRole string
	// ImpersonatorID is the platform admin acting as this user, if any (support sessions).
	ImpersonatorID string
	// ImpersonationID and ImpersonationExpiresAt are the support session's id and end, with
	// ImpersonatorID.
	ImpersonationID        string
	ImpersonationExpiresAt time.Time
}

// Actor is the audit-log name of the principal.
func (p *Principal) Actor() string {
	switch {
	case p == nil:
		return "anonymous"
	case p.Platform:
		return "platform:" + p.UserID
	case p.ImpersonatorID != "":
		return "platform:" + p.ImpersonatorID + " as user:" + p.UserID
	default:
		return "user:" + p.UserID
	}
}

// requestInfo is filled in as a request moves through the middleware and read by the access
// log at the end; it never holds personal data.
type requestInfo struct {
	id        string
	ip        string
	host      tenancy.Host
	principal *Principal
	operation string
	idemKey   string
}

type infoKey struct{}

func withInfo(ctx context.Context, ri *requestInfo) context.Context {
	return context.WithValue(ctx, infoKey{}, ri)
}

func info(ctx context.Context) *requestInfo {
	ri, _ := ctx.Value(infoKey{}).(*requestInfo)
	if ri == nil {
		return &requestInfo{}
	}
	return ri
}

// RequestID returns the request's id (also sent back as X-Request-Id).
func RequestID(ctx context.Context) string { return info(ctx).id }

// ClientIP returns the caller's IP as trusted proxy settings allow.
func ClientIP(ctx context.Context) string { return info(ctx).ip }

// PrincipalFrom returns the authenticated caller, if any.
func PrincipalFrom(ctx context.Context) (*Principal, bool) {
	p := info(ctx).principal
	return p, p != nil
}

// IdempotencyKey returns the request's Idempotency-Key header ("" when absent), for services
// that pass it on to a provider (Stripe) as their own idempotency key.
func IdempotencyKey(ctx context.Context) string { return info(ctx).idemKey }

// HostFrom returns what the request's Host resolved to.
func HostFrom(ctx context.Context) tenancy.Host { return info(ctx).host }

// logFault records a server-side failure with the request's context, without personal data.
func logFault(ctx context.Context, msg string, errs []error) {
	ri := info(ctx)
	attrs := []any{"request_id", ri.id, "operation", ri.operation}
	if ri.host.Tenant != nil {
		attrs = append(attrs, "tenant", ri.host.Tenant.Slug)
	}
	for _, e := range errs {
		if e != nil {
			attrs = append(attrs, "err", e.Error())
		}
	}
	slog.Default().ErrorContext(ctx, msg, attrs...)
}
