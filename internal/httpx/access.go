package httpx

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"

	"github.com/danielgtaylor/huma/v2"

	"github.com/paotui/paotui/internal/platform/tenancy"
)

// Scope says on which hosts an operation exists.
type Scope string

const (
	// ScopeTenant operations run on a tenant's host, on that tenant's data.
	ScopeTenant Scope = "tenant"
	// ScopePlatform operations run on the platform host (admin.<base>) for platform admins.
	ScopePlatform Scope = "platform"
	// ScopeBase operations run on the base host (landing, signup).
	ScopeBase Scope = "base"
	// ScopeAny operations run on every host (health, branding of the host itself).
	ScopeAny Scope = "any"
)

// Access is what every operation declares: where it lives, whether the caller must be signed
// in, and the permission it needs. It is written into the OpenAPI document as
// x-paotui-scope / x-paotui-auth / x-paotui-permission, which the isolation test reads.
type Access struct {
	Scope Scope
	// Auth: the caller must present a valid access token for this host.
	Auth bool
	// Permission is "resource:action" checked through Casbin (tenant) or the platform roles;
	// empty means any signed-in caller (Auth) or anyone (public).
	Permission string
	// WhileSuspended lets the operation run on a suspended tenant (sign-in, billing, branding).
	WhileSuspended bool
	// Idempotent operations honour an Idempotency-Key header: a retry gets the first reply.
	// Every money-moving POST declares it.
	Idempotent bool
	// OwnBodyLimit exempts the operation from the server-wide body limit (http.body_limit):
	// uploads that enforce their own, larger limit while streaming.
	OwnBodyLimit bool
}

// WithIdempotency marks a money-moving operation.
func (a Access) WithIdempotency() Access { a.Idempotent = true; return a }

// WithOwnBodyLimit marks an operation that limits its own request body (see OwnBodyLimit).
func (a Access) WithOwnBodyLimit() Access { a.OwnBodyLimit = true; return a }

// ownBodyLimit holds "METHOD /echo/:path" of every operation with OwnBodyLimit. Routes are the
// same in every server of the process, so one set serves them all.
var ownBodyLimit sync.Map

// echoRoute is the route echo registers for a huma path (humaecho turns {id} into :id).
func echoRoute(method, path string) string {
	return method + " " + strings.NewReplacer("{", ":", "}", "").Replace(path)
}

// Public is an operation anyone may call on hosts of scope s.
func Public(s Scope) Access { return Access{Scope: s} }

// SignedIn is an operation for any signed-in caller of scope s.
func SignedIn(s Scope) Access { return Access{Scope: s, Auth: true} }

// Perm is an operation needing permission perm in scope s.
func Perm(s Scope, perm string) Access { return Access{Scope: s, Auth: true, Permission: perm} }

const accessKey = "paotui.access"

// Register adds an operation with its access declaration. Operation ids are kebab-case and
// stable; paths live under /api/v1/.
func Register[I, O any](api huma.API, op huma.Operation, access Access, h func(context.Context, *I) (*O, error)) {
	if op.Metadata == nil {
		op.Metadata = map[string]any{}
	}
	op.Metadata[accessKey] = access
	if access.OwnBodyLimit {
		ownBodyLimit.Store(echoRoute(op.Method, op.Path), true)
	}
	if op.Extensions == nil {
		op.Extensions = map[string]any{}
	}
	op.Extensions["x-paotui-scope"] = string(access.Scope)
	op.Extensions["x-paotui-auth"] = access.Auth
	if access.Permission != "" {
		op.Extensions["x-paotui-permission"] = access.Permission
		op.Description = strings.TrimSpace(op.Description + "\n\nRequires permission `" + access.Permission + "`.")
	}
	if access.Auth {
		op.Security = []map[string][]string{{"bearer": {}}}
		op.Errors = appendUnique(op.Errors, http.StatusUnauthorized)
	}
	if access.Permission != "" {
		op.Errors = appendUnique(op.Errors, http.StatusForbidden)
	}
	op.Errors = appendUnique(op.Errors, http.StatusUnprocessableEntity)
	if access.Idempotent {
		op.Extensions["x-paotui-idempotent"] = true
		op.Parameters = append(op.Parameters, &huma.Param{Name: IdempotencyHeader, In: "header",
			Description: "Any unique string (e.g. a UUID) per intended payment; a retry with the same key replays the first reply.",
			Schema:      &huma.Schema{Type: "string", MaxLength: ptr(200)}})
	}
	huma.Register(api, op, func(ctx context.Context, in *I) (*O, error) {
		out, err := h(ctx, in)
		if err != nil {
			for _, m := range errorMappers {
				err = m(ctx, err)
			}
		}
		return out, err
	})
}

// errorMappers turn errors any domain may pass up unchanged (a plan limit hit deep inside an
// operation) into their problems; see MapErrors.
var errorMappers []func(context.Context, error) error

// MapErrors adds a mapper every operation's error goes through after the operation's own
// mapping. A mapper returns err unchanged when it does not know it. Call it at start-up,
// before any server exists.
func MapErrors(m func(context.Context, error) error) { errorMappers = append(errorMappers, m) }

func ptr[T any](v T) *T { return &v }

func appendUnique(s []int, v int) []int {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

func accessOf(op *huma.Operation) (Access, bool) {
	if op == nil || op.Metadata == nil {
		return Access{}, false
	}
	a, ok := op.Metadata[accessKey].(Access)
	return a, ok
}

// Verifier checks access tokens; the identity domain implements it. A refusal that is a
// *Problem (found with errors.As) is answered as is; any other error is token_invalid.
type Verifier interface {
	// VerifyTenant returns the principal of a token minted for tenant t, refusing tokens of any
	// other tenant or of the platform. A support-session token may need a database read.
	VerifyTenant(ctx context.Context, t *tenancy.Tenant, token string) (*Principal, error)
	// VerifyPlatform returns the platform admin of a platform token.
	VerifyPlatform(ctx context.Context, token string) (*Principal, error)
}

// Authorizer answers permission questions; authz implements it for tenants.
type Authorizer interface {
	Can(ctx context.Context, t *tenancy.Tenant, userID, perm string) (bool, error)
	CanPlatform(ctx context.Context, role, perm string) (bool, error)
}

// gate enforces an operation's Access: the right kind of host, the tenant's status, the token
// and the permission. It runs as huma middleware, so it sees the operation being called.
func (s *Server) gate(ctx huma.Context, next func(huma.Context)) {
	op := ctx.Operation()
	access, ok := accessOf(op)
	ri := info(ctx.Context())
	if op != nil {
		ri.operation = op.OperationID
	}
	if !ok {
		// Operations must declare their access; an undeclared one is a bug, closed by default.
		s.writeProblem(ctx, NewProblem(http.StatusInternalServerError, "internal", internalDetail))
		return
	}
	host := ri.host
	if !scopeMatches(access.Scope, host.Kind) {
		s.writeProblem(ctx, NewProblem(http.StatusNotFound, "not_found", "no such operation on this host"))
		return
	}
	if host.Kind == tenancy.KindTenant {
		if p := statusProblem(host.Tenant, access.WhileSuspended); p != nil {
			s.writeProblem(ctx, p)
			return
		}
	}
	if access.Auth {
		token, ok := bearer(ctx.Header("Authorization"))
		if !ok {
			s.writeProblem(ctx, ErrUnauthorized())
			return
		}
		var (
			p   *Principal
			err error
		)
		if host.Kind == tenancy.KindTenant {
			p, err = s.verifier.VerifyTenant(ctx.Context(), host.Tenant, token)
		} else {
			p, err = s.verifier.VerifyPlatform(ctx.Context(), token)
		}
		var prob *Problem
		if errors.As(err, &prob) {
			if prob.Status >= http.StatusInternalServerError {
				logFault(ctx.Context(), "verify access token", []error{err})
			}
			s.writeProblem(ctx, prob)
			return
		}
		if err != nil || p == nil {
			s.writeProblem(ctx, NewProblem(http.StatusUnauthorized, "token_invalid",
				"the access token is invalid, expired or not for this host; sign in again or refresh"))
			return
		}
		ri.principal = p
		if p.ImpersonatorID != "" {
			banner(ctx, p)
			if s.impAudit != nil && recordsImpersonated(ctx.Method()) {
				defer s.recordImpersonated(ctx, host.Tenant, p)
			}
		}
		if access.Permission != "" {
			var allowed bool
			if p.Platform {
				allowed, err = s.authz.CanPlatform(ctx.Context(), p.AdminRole, access.Permission)
			} else {
				allowed, err = s.authz.Can(ctx.Context(), host.Tenant, p.UserID, access.Permission)
			}
			if err != nil {
				logFault(ctx.Context(), "authorize", []error{err})
				s.writeProblem(ctx, NewProblem(http.StatusInternalServerError, "internal", internalDetail))
				return
			}
			if !allowed {
				s.writeProblem(ctx, ErrForbidden(access.Permission))
				return
			}
		}
	}
	if access.Idempotent && s.idem != nil && host.Kind == tenancy.KindTenant && ri.principal != nil {
		if key := ctx.Header(IdempotencyHeader); key != "" {
			ri.idemKey = key
			s.idempotent(ctx, next, key)
			return
		}
	}
	next(ctx)
}

func scopeMatches(s Scope, k tenancy.HostKind) bool {
	switch s {
	case ScopeAny:
		return true
	case ScopeTenant:
		return k == tenancy.KindTenant
	case ScopePlatform:
		return k == tenancy.KindPlatform
	case ScopeBase:
		return k == tenancy.KindBase
	}
	return false
}

// statusProblem is the tenant status gate: what a request to a tenant that is not active gets.
func statusProblem(t *tenancy.Tenant, whileSuspended bool) *Problem {
	switch t.Status {
	case tenancy.StatusActive:
		return nil
	case tenancy.StatusProvisioning:
		return NewProblem(http.StatusServiceUnavailable, "tenant_provisioning",
			"%s is still being set up; try again in a moment", t.Name).WithRetryAfter(5e9)
	case tenancy.StatusSuspended:
		if whileSuspended {
			return nil
		}
		return NewProblem(http.StatusForbidden, "tenant_suspended",
			"%s has paused its service; your data is safe and nothing was changed", t.Name)
	default:
		return NewProblem(http.StatusGone, "tenant_deleted", "this service has closed")
	}
}

func bearer(h string) (string, bool) {
	const prefix = "bearer "
	if len(h) > len(prefix) && strings.EqualFold(h[:len(prefix)], prefix) {
		return strings.TrimSpace(h[len(prefix):]), true
	}
	return "", false
}

var once = struct {
	sync.Mutex
	done map[huma.API]map[string]bool
}{done: map[huma.API]map[string]bool{}}

// Once reports whether this is the first call for api and name, so a set of operations can be
// registered idempotently (tests add a domain's operations to an app that may have them).
func Once(api huma.API, name string) bool {
	once.Lock()
	defer once.Unlock()
	if once.done[api] == nil {
		once.done[api] = map[string]bool{}
	}
	if once.done[api][name] {
		return false
	}
	once.done[api][name] = true
	return true
}
