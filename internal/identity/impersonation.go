package identity

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/paotui/paotui/internal/audit"
	"github.com/paotui/paotui/internal/platform/tenancy"
)

// Support sessions: a platform admin acts as a tenant user (impersonate-tenant) with a tenant
// access token that names the admin (imp) and the session (jti). There is no refresh token:
// the session ends at its expiry, when an admin ends it, or when its admin is disabled, and
// every request made with the token checks which (VerifyAccess).

var (
	// ErrImpersonationExpired is returned for a support-session token past its expiry. Unlike
	// an ordinary access token there is nothing to refresh: the admin opens a new session.
	ErrImpersonationExpired = errors.New("the support session has expired")
	// ErrImpersonationEnded is returned for a support-session token whose session was ended
	// early, whose platform admin has been disabled, or that names no recorded session.
	ErrImpersonationEnded = errors.New("the support session has ended")
	// ErrImpersonationNotFound is returned for an unknown support-session id.
	ErrImpersonationNotFound = errors.New("no such support session")
	// ErrAdminDisabled is returned when a disabled platform admin (whose access token has not
	// expired yet) tries to open a support session.
	ErrAdminDisabled = errors.New("the platform admin is disabled")
)

// Impersonation is a support session: platform admin AdminID acts as user UserID of tenant
// TenantID until ExpiresAt, unless it is ended first (EndedAt).
type Impersonation struct {
	ID        string     `json:"id" format:"uuid"`
	AdminID   string     `json:"adminId" format:"uuid"`
	TenantID  int64      `json:"tenantId"`
	UserID    string     `json:"userId" format:"uuid"`
	Reason    string     `json:"reason"`
	CreatedAt time.Time  `json:"createdAt"`
	ExpiresAt time.Time  `json:"expiresAt"`
	EndedAt   *time.Time `json:"endedAt,omitempty"`
}

// TableName is the control-plane table of support sessions.
func (Impersonation) TableName() string { return "public.impersonations" }

// StartImpersonation records a support session of admin adminID as user userID of t and mints
// its access token, valid until expires (cut to whole seconds, as JWT times are). tx must be
// t's transaction (store.InTenant): the user is read from the tenant's schema and the session
// row, in the control plane, commits with whatever the caller audits. The caller decides who
// may be impersonated and why. Errors: ErrUserNotFound, ErrUserDisabled (the user),
// ErrAdminDisabled.
func (s *Service) StartImpersonation(tx *gorm.DB, t *tenancy.Tenant, adminID, userID, reason string, now, expires time.Time) (*Impersonation, string, error) {
	now = now.UTC()
	expires = expires.UTC().Truncate(time.Second)
	if !expires.After(now) {
		return nil, "", fmt.Errorf("identity: support session must last at least a second, expires %s", expires)
	}
	if reason == "" {
		return nil, "", errors.New("identity: a support session needs a reason")
	}
	u, err := findUser(tx, userID, nil, false)
	if err != nil {
		return nil, "", err
	}
	if u.Status != StatusActive {
		return nil, "", ErrUserDisabled
	}
	// The admin's token is valid until it expires even if they were disabled meanwhile; a
	// support session must not outlive that check.
	a, err := findAdmin(tx, adminID, "", false)
	if err != nil {
		return nil, "", err
	}
	if a.DisabledAt != nil {
		return nil, "", ErrAdminDisabled
	}
	imp := &Impersonation{ID: uuid.NewString(), AdminID: a.ID, TenantID: t.ID, UserID: u.ID, Reason: reason,
		CreatedAt: now, ExpiresAt: expires}
	if err := tx.Create(imp).Error; err != nil {
		return nil, "", fmt.Errorf("record support session: %w", err)
	}
	token, err := s.mintImpersonation(t, imp, now)
	if err != nil {
		return nil, "", err
	}
	return imp, token, nil
}

// mintImpersonation signs the access token of support session imp.
func (s *Service) mintImpersonation(t *tenancy.Tenant, imp *Impersonation, now time.Time) (string, error) {
	return sign(s.tenantJWTKey(t.ID), jwtClaims{
		TenantID: t.ID,
		Imp:      imp.AdminID,
		RegisteredClaims: jwt.RegisteredClaims{
			ID: imp.ID, Subject: imp.UserID, Audience: jwt.ClaimStrings{tenantAudience(t.ID)},
		},
	}, now, imp.ExpiresAt)
}

// EndImpersonation ends support session id at now, inside the caller's transaction (which may
// be a tenant's or a control-plane one: the table is schema-qualified). ended is false when
// the session had already ended; its row is then returned unchanged. Errors:
// ErrImpersonationNotFound.
func (s *Service) EndImpersonation(tx *gorm.DB, id string, now time.Time) (imp *Impersonation, ended bool, err error) {
	if _, err := uuid.Parse(id); err != nil {
		return nil, false, ErrImpersonationNotFound
	}
	var row Impersonation
	err = tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("id = ?", id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, false, ErrImpersonationNotFound
	}
	if err != nil {
		return nil, false, fmt.Errorf("read support session: %w", err)
	}
	if row.EndedAt != nil {
		return &row, false, nil
	}
	now = now.UTC()
	if err := tx.Model(&Impersonation{}).Where("id = ?", id).Update("ended_at", now).Error; err != nil {
		return nil, false, fmt.Errorf("end support session: %w", err)
	}
	row.EndedAt = &now
	return &row, true, nil
}

// FindImpersonation returns support session id. Errors: ErrImpersonationNotFound.
func (s *Service) FindImpersonation(ctx context.Context, id string) (*Impersonation, error) {
	if _, err := uuid.Parse(id); err != nil {
		return nil, ErrImpersonationNotFound
	}
	var row Impersonation
	err := s.db.Gorm.WithContext(ctx).Where("id = ?", id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrImpersonationNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read support session: %w", err)
	}
	return &row, nil
}

// VerifyAccess is ParseAccessToken plus what needs the database: a support-session token
// (Claims.Imp set) is refused with ErrImpersonationEnded once its session was ended or its
// admin disabled, and with ErrImpersonationExpired past its expiry. Ordinary tokens cost no
// query. Support sessions are few and short, so their one primary-key read per request is
// not cached: ending a session takes effect on every replica at once.
func (s *Service) VerifyAccess(ctx context.Context, t *tenancy.Tenant, token string) (*Claims, error) {
	c, err := s.ParseAccessToken(t, token)
	if err != nil || c.Imp == "" {
		return c, err
	}
	if _, err := uuid.Parse(c.TokenID); err != nil {
		return nil, ErrImpersonationEnded
	}
	var rows []struct {
		AdminID    string
		TenantID   int64
		UserID     string
		ExpiresAt  time.Time
		EndedAt    *time.Time
		DisabledAt *time.Time
	}
	err = s.db.Gorm.WithContext(ctx).Raw(`SELECT i.admin_id, i.tenant_id, i.user_id, i.expires_at, i.ended_at, a.disabled_at
		FROM public.impersonations i JOIN public.platform_admins a ON a.id = i.admin_id WHERE i.id = ?`, c.TokenID).
		Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("read support session: %w", err)
	}
	switch {
	case len(rows) == 0:
		return nil, ErrImpersonationEnded
	case rows[0].AdminID != c.Imp || rows[0].TenantID != t.ID || rows[0].UserID != c.UserID:
		// Only a token signed with this tenant's key gets here, so this is a bug, not an attack.
		return nil, fmt.Errorf("%w: support session %s does not match its token", ErrTokenInvalid, c.TokenID)
	case rows[0].EndedAt != nil, rows[0].DisabledAt != nil:
		return nil, ErrImpersonationEnded
	case !s.now().Before(rows[0].ExpiresAt):
		return nil, ErrImpersonationExpired
	}
	return c, nil
}

// ImpersonatedRequest is one request made with a support-session token, after it ran.
type ImpersonatedRequest struct {
	SessionID string
	AdminID   string
	UserID    string
	// Actor is the tenant-log actor, "platform:<admin> as user:<user>" (httpx.Principal.Actor).
	Actor     string
	Operation string
	Method    string
	Status    int
	IP        string
}

const actionImpersonatedRequest = "impersonation.request"

// RecordImpersonatedRequest writes r to the tenant's audit log under both identities and to
// the platform audit log under the admin's, in one transaction, so the tenant sees what was
// done in its name and the platform sees what its admin did.
func (s *Service) RecordImpersonatedRequest(ctx context.Context, t *tenancy.Tenant, r ImpersonatedRequest) error {
	meta := map[string]any{"operation": r.Operation, "method": r.Method, "status": r.Status, "impersonationId": r.SessionID}
	target := "user:" + r.UserID
	return s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		if err := audit.Record(tx, audit.Entry{Actor: r.Actor, Action: actionImpersonatedRequest, Target: target, IP: r.IP, Meta: meta}); err != nil {
			return err
		}
		return audit.RecordPlatform(tx, &t.ID, audit.Entry{Actor: "platform:" + r.AdminID, Action: actionImpersonatedRequest,
			Target: target, IP: r.IP, Meta: meta})
	})
}
