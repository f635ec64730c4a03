package admin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/audit"
	"github.com/paotui/paotui/internal/identity"
	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/store"
)

var (
	// ErrTenantProvisioning is returned when impersonating in a tenant still being set up: it
	// has no complete schema or owner yet.
	ErrTenantProvisioning = errors.New("the tenant is still being set up")
	// ErrImpersonationReason is returned for a blank or overlong support-session reason.
	ErrImpersonationReason = fmt.Errorf("a reason of 1-%d characters is required", maxImpersonationReason)
	// ErrImpersonationTTL is returned for a session length outside 1 s .. auth.impersonation_ttl.
	ErrImpersonationTTL = errors.New("the session length is out of range")
	// ErrNotImpersonable is returned when the chosen user is not an owner or admin of the
	// tenant: support acts as the people who run the service, not as its students or couriers.
	ErrNotImpersonable = errors.New("only an owner or admin of the tenant can be impersonated")
	// ErrNoOwner is returned when no user was chosen and the tenant has no active owner.
	ErrNoOwner = errors.New("the tenant has no active owner")
)

const maxImpersonationReason = 500

// impersonableRoles are the tenant roles a support session may act as.
var impersonableRoles = []string{"owner", "admin"}

// SupportSessions records support sessions and signs their tokens; identity.Service
// implements it.
type SupportSessions interface {
	User(ctx context.Context, t *tenancy.Tenant, id string) (*identity.User, error)
	StartImpersonation(tx *gorm.DB, t *tenancy.Tenant, adminID, userID, reason string, now, expires time.Time) (*identity.Impersonation, string, error)
	FindImpersonation(ctx context.Context, id string) (*identity.Impersonation, error)
	EndImpersonation(tx *gorm.DB, id string, now time.Time) (*identity.Impersonation, bool, error)
}

// TenantMembers lists who holds which roles in a tenant; authz.Authorizer implements it.
type TenantMembers interface {
	Members(ctx context.Context, t *tenancy.Tenant, roles []string) (map[string][]string, error)
}

// Impersonations opens and ends support sessions: a platform admin acting as a tenant's owner
// or admin for a limited time, audited in the platform's log and in the tenant's. It is safe
// for concurrent use.
type Impersonations struct {
	db       *store.DB
	reg      *tenancy.Registry
	sessions SupportSessions
	members  TenantMembers
	maxTTL   time.Duration
	now      func() time.Time
}

// NewImpersonations returns the service; maxTTL (auth.impersonation_ttl) is both the default
// and the longest session.
func NewImpersonations(db *store.DB, reg *tenancy.Registry, sessions SupportSessions, members TenantMembers, maxTTL time.Duration) *Impersonations {
	return &Impersonations{db: db, reg: reg, sessions: sessions, members: members, maxTTL: maxTTL,
		now: func() time.Time { return time.Now().UTC() }}
}

// StartRequest asks for a support session.
type StartRequest struct {
	TenantID int64
	AdminID  string // the platform admin who acts
	UserID   string // "" for the tenant's owner
	Reason   string
	TTL      time.Duration // 0 for the longest allowed
	IP       string
}

// Started is an open support session and its access token.
type Started struct {
	Session *identity.Impersonation
	Token   string
	Tenant  *tenancy.Tenant
}

// Start opens a support session: it picks the user (the one asked for, who must be an active
// owner or admin, or else the tenant's longest-standing active owner), records the session,
// and audits it in the platform log (tenant.impersonate) and in the tenant's
// (impersonation.start, under both identities) in one transaction. Errors:
// ErrImpersonationReason, ErrImpersonationTTL, ErrTenantNotFound, ErrTenantProvisioning,
// ErrTenantDeleted, ErrNotImpersonable, ErrNoOwner, identity.ErrUserDisabled,
// identity.ErrAdminDisabled.
func (s *Impersonations) Start(ctx context.Context, r StartRequest) (*Started, error) {
	reason := strings.TrimSpace(r.Reason)
	if reason == "" || !utf8.ValidString(reason) || utf8.RuneCountInString(reason) > maxImpersonationReason {
		return nil, ErrImpersonationReason
	}
	ttl := r.TTL
	if ttl == 0 {
		ttl = s.maxTTL
	}
	if ttl < time.Second || ttl > s.maxTTL {
		return nil, fmt.Errorf("%w: %s is not within 1s..%s", ErrImpersonationTTL, ttl, s.maxTTL)
	}
	t, err := s.reg.ByID(ctx, r.TenantID)
	if errors.Is(err, tenancy.ErrNotFound) {
		return nil, ErrTenantNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read tenant %d: %w", r.TenantID, err)
	}
	if err := impersonable(t.Status); err != nil {
		return nil, err
	}
	userID, err := s.pickUser(ctx, t, r.UserID)
	if err != nil {
		return nil, err
	}
	out := &Started{Tenant: t}
	err = s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		// Held until commit, so a deletion cannot slip in between the check and the session.
		var status tenancy.Status
		if err := tx.Raw(`SELECT status FROM public.tenants WHERE id = ? FOR SHARE`, t.ID).Scan(&status).Error; err != nil {
			return fmt.Errorf("lock tenant %d: %w", t.ID, err)
		}
		if err := impersonable(status); err != nil {
			return err
		}
		now := s.now()
		imp, token, err := s.sessions.StartImpersonation(tx, t, r.AdminID, userID, reason, now, now.Add(ttl))
		if err != nil {
			return err
		}
		out.Session, out.Token = imp, token
		meta := map[string]any{"reason": reason, "userId": imp.UserID, "expiresAt": imp.ExpiresAt, "impersonationId": imp.ID}
		err = audit.RecordPlatform(tx, &t.ID, audit.Entry{Actor: "platform:" + imp.AdminID, Action: "tenant.impersonate",
			Target: "tenant:" + t.Slug, IP: r.IP, Meta: meta})
		if err != nil {
			return err
		}
		return audit.Record(tx, audit.Entry{Actor: actingAs(imp), Action: "impersonation.start", Target: "user:" + imp.UserID,
			IP: r.IP, Meta: meta})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// actingAs is the tenant-log actor of a support session, as httpx.Principal.Actor renders
// the session's requests.
func actingAs(imp *identity.Impersonation) string {
	return "platform:" + imp.AdminID + " as user:" + imp.UserID
}

func impersonable(st tenancy.Status) error {
	switch st {
	case tenancy.StatusActive, tenancy.StatusSuspended:
		return nil
	case tenancy.StatusProvisioning:
		return ErrTenantProvisioning
	default:
		return ErrTenantDeleted
	}
}

// pickUser checks the asked-for user, or finds the owner to act as. Several owners are
// possible; the oldest account is the one that set the service up.
func (s *Impersonations) pickUser(ctx context.Context, t *tenancy.Tenant, asked string) (string, error) {
	members, err := s.members.Members(ctx, t, impersonableRoles)
	if err != nil {
		return "", fmt.Errorf("staff of tenant %d: %w", t.ID, err)
	}
	if asked != "" {
		if len(members[asked]) == 0 {
			return "", ErrNotImpersonable
		}
		return asked, nil
	}
	var owner *identity.User
	for id, roles := range members {
		if !slices.Contains(roles, "owner") {
			continue
		}
		u, err := s.sessions.User(ctx, t, id)
		if errors.Is(err, identity.ErrUserNotFound) {
			continue // a role line left behind by a deleted user
		}
		if err != nil {
			return "", err
		}
		if u.Status == identity.StatusActive && (owner == nil || u.CreatedAt.Before(owner.CreatedAt)) {
			owner = u
		}
	}
	if owner == nil {
		return "", ErrNoOwner
	}
	return owner.ID, nil
}

// End ends support session id early; its token is refused with impersonation_ended from the
// next request on. Ending an ended session changes nothing and is not an error. The end is
// audited in the platform log and, while the tenant's schema is in service, in the tenant's.
// adminID is who ends it, not necessarily who opened it. Errors:
// identity.ErrImpersonationNotFound.
func (s *Impersonations) End(ctx context.Context, id, adminID, ip string) error {
	imp, err := s.sessions.FindImpersonation(ctx, id)
	if err != nil {
		return err
	}
	t, err := s.reg.ByID(ctx, imp.TenantID)
	if err != nil {
		return fmt.Errorf("tenant of support session %s: %w", id, err)
	}
	end := func(tx *gorm.DB, inTenant bool) error {
		imp, ended, err := s.sessions.EndImpersonation(tx, id, s.now())
		if err != nil || !ended {
			return err
		}
		e := audit.Entry{Actor: "platform:" + adminID, Action: "impersonation.end", Target: "user:" + imp.UserID, IP: ip,
			Meta: map[string]any{"impersonationId": imp.ID, "openedBy": imp.AdminID}}
		if err := audit.RecordPlatform(tx, &t.ID, e); err != nil {
			return err
		}
		if !inTenant {
			return nil
		}
		return audit.Record(tx, e)
	}
	if impersonable(t.Status) != nil {
		return s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error { return end(tx, false) })
	}
	return s.db.InTenant(ctx, t, func(tx *gorm.DB) error { return end(tx, true) })
}
