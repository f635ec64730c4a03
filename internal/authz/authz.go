package authz

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/singleflight"

	"github.com/paotui/paotui/configs"
	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/store"
)

// Built-in roles. What each may do is written once, for every tenant, in
// configs/rbac/policy.csv; New refuses a policy file that names any other role.
const (
	RoleOwner      = "owner"
	RoleAdmin      = "admin"
	RoleDispatcher = "dispatcher"
	RoleFinance    = "finance"
	RoleSupport    = "support"
	RoleCourier    = "courier"
	RoleStudent    = "student"
)

var (
	// ErrUnknownRole is returned by GrantTx for a role that is neither built in nor a custom
	// role of the tenant.
	ErrUnknownRole = errors.New("unknown role")
	// ErrLastOwner is returned by RevokeTx when it would take "owner" from the tenant's only
	// owner: nobody could then grant staff roles, and only the platform could recover.
	ErrLastOwner = errors.New("a tenant must keep at least one owner")
	// ErrBadPermission is returned for a permission that is not "resource:action".
	ErrBadPermission = errors.New(`permission must be "resource:action"`)
)

var (
	errNoTenant = errors.New("authz: no tenant")
	errNoUser   = errors.New("authz: no user id")
)

// BuiltinRoles returns the roles every tenant has, most powerful first.
func BuiltinRoles() []string {
	return []string{RoleOwner, RoleAdmin, RoleDispatcher, RoleFinance, RoleSupport, RoleCourier, RoleStudent}
}

// StaffRoles returns the built-in roles that make someone staff (the admin console).
func StaffRoles() []string {
	return []string{RoleOwner, RoleAdmin, RoleDispatcher, RoleFinance, RoleSupport}
}

func isBuiltin(role string) bool { return slices.Contains(BuiltinRoles(), role) }

const subjectPrefix = "user:"

// Subject is the Casbin subject of a tenant user. The prefix keeps users and roles apart, so a
// user id can never be mistaken for a role name.
func Subject(userID string) string { return subjectPrefix + userID }

const (
	invalidateChannel = "paotui:authz:invalidate"
	// cacheTTL bounds how long a replica that missed an invalidation (Redis down, subscriber
	// reconnecting) keeps serving an old policy.
	cacheTTL = 5 * time.Minute
	// loadTimeout bounds one policy load; it is shared by every caller waiting for it, so it
	// does not follow any one caller's context.
	loadTimeout = 10 * time.Second
)

// Authorizer answers permission questions per tenant. It is safe for concurrent use; call Run
// once in a goroutine so it hears about role changes made on other replicas.
type Authorizer struct {
	db        *store.DB
	rdb       redis.UniversalClient
	log       *slog.Logger
	modelText string
	builtin   [][]string // policy.csv rules, each led by its ptype
	channel   string
	ttl       time.Duration

	readyOnce sync.Once
	ready     chan struct{} // closed when Run's first subscription is confirmed

	loads singleflight.Group
	mu    sync.RWMutex
	cache map[int64]*policy
	// Invalidation versions: seq grows with every drop; gens[id] is the seq of tenant id's last
	// drop and floor that of the last drop of everything. A load started under an older version
	// is returned to its callers but not cached, so a load racing an invalidation cannot put
	// the old policy back.
	seq   uint64
	gens  map[int64]uint64
	floor uint64
}

// New reads the embedded model and built-in policy and checks that they agree with
// BuiltinRoles. log may be nil.
func New(db *store.DB, rdb redis.UniversalClient, log *slog.Logger) (*Authorizer, error) {
	if db == nil || rdb == nil {
		return nil, errors.New("authz: database and redis are required")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	modelText, err := fs.ReadFile(configs.RBAC, "rbac/model.conf")
	if err != nil {
		return nil, fmt.Errorf("read rbac model: %w", err)
	}
	policyText, err := fs.ReadFile(configs.RBAC, "rbac/policy.csv")
	if err != nil {
		return nil, fmt.Errorf("read rbac policy: %w", err)
	}
	builtin, err := parseBuiltin(string(policyText))
	if err != nil {
		return nil, fmt.Errorf("rbac/policy.csv: %w", err)
	}
	a := &Authorizer{
		db:        db,
		rdb:       rdb,
		log:       log,
		modelText: string(modelText),
		builtin:   builtin,
		channel:   invalidateChannel,
		ttl:       cacheTTL,
		ready:     make(chan struct{}),
		cache:     map[int64]*policy{},
		gens:      map[int64]uint64{},
	}
	// Build one enforcer now so a broken model fails at start, not on the first request.
	if _, err := newEnforcer(a.modelText, nil); err != nil {
		return nil, fmt.Errorf("rbac/model.conf: %w", err)
	}
	return a, nil
}

// Can reports whether the user may do perm ("resource:action", e.g. "roles:manage") in
// tenant t. An error means the policy could not be consulted; callers must deny.
func (a *Authorizer) Can(ctx context.Context, t *tenancy.Tenant, userID string, perm string) (bool, error) {
	obj, act, err := splitPermission(perm)
	if err != nil {
		return false, err
	}
	if userID == "" {
		return false, nil
	}
	p, err := a.policy(ctx, t)
	if err != nil {
		return false, err
	}
	ok, err := p.enf.Enforce(Subject(userID), p.domain, obj, act)
	if err != nil {
		return false, fmt.Errorf("enforce %s in %s: %w", perm, p.domain, err)
	}
	return ok, nil
}

// RolesOf returns the roles assigned to the user in tenant t (directly, not the roles those
// roles inherit), sorted; empty, not nil, when there are none.
func (a *Authorizer) RolesOf(ctx context.Context, t *tenancy.Tenant, userID string) ([]string, error) {
	if userID == "" {
		return []string{}, nil
	}
	p, err := a.policy(ctx, t)
	if err != nil {
		return nil, err
	}
	roles := slices.Clone(p.enf.GetRolesForUserInDomain(Subject(userID), p.domain))
	if roles == nil {
		roles = []string{}
	}
	slices.Sort(roles)
	return roles, nil
}

// PermissionsOf lists the "resource:action" strings the user holds in tenant t through all of
// their roles, sorted and without duplicates; wildcards stay "*" ("orders:*", "*:*"), so a
// client matching a button's permission must treat "*" as any. Empty, not nil, for none.
func (a *Authorizer) PermissionsOf(ctx context.Context, t *tenancy.Tenant, userID string) ([]string, error) {
	if userID == "" {
		return []string{}, nil
	}
	p, err := a.policy(ctx, t)
	if err != nil {
		return nil, err
	}
	// Template rules (domain "*") are only included because the role manager has a domain
	// matching function: casbin filters rules here with rm.Match(domain, rule's domain), not
	// with the model's matcher.
	rules, err := p.enf.GetImplicitPermissionsForUser(Subject(userID), p.domain)
	if err != nil {
		return nil, fmt.Errorf("permissions in %s: %w", p.domain, err)
	}
	perms := make([]string, 0, len(rules))
	for _, r := range rules {
		if len(r) == 4 { // sub, dom, obj, act
			perms = append(perms, r[2]+":"+r[3])
		}
	}
	slices.Sort(perms)
	return slices.Compact(perms), nil
}

// splitPermission turns "resource:action" into Casbin's obj and act.
func splitPermission(perm string) (obj, act string, err error) {
	obj, act, ok := strings.Cut(perm, ":")
	if !ok || obj == "" || act == "" || strings.ContainsAny(act, ":") || strings.ContainsAny(perm, " \t\r\n,") {
		return "", "", fmt.Errorf("%w, got %q", ErrBadPermission, perm)
	}
	return obj, act, nil
}
