package identity

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/paotui/paotui/internal/audit"
)

// AdminRole is a platform admin's role.
type AdminRole string

const (
	AdminOwner   AdminRole = "owner"
	AdminSupport AdminRole = "support"
	AdminFinance AdminRole = "finance"
)

// Admin is a platform admin: a Paotui operator, not a member of any tenant.
type Admin struct {
	ID          string     `json:"id"`
	Email       string     `json:"email"`
	Role        AdminRole  `json:"role"`
	DisabledAt  *time.Time `json:"disabledAt,omitempty"`
	CreatedAt   time.Time  `json:"createdAt"`
	LastLoginAt *time.Time `json:"lastLoginAt,omitempty"`
}

type adminRow struct {
	ID           string
	Email        string
	PasswordHash string
	Role         AdminRole
	DisabledAt   *time.Time
	CreatedAt    time.Time
	LastLoginAt  *time.Time
}

func (adminRow) TableName() string { return "public.platform_admins" }

func (r *adminRow) view() *Admin {
	return &Admin{ID: r.ID, Email: r.Email, Role: r.Role, DisabledAt: r.DisabledAt, CreatedAt: r.CreatedAt, LastLoginAt: r.LastLoginAt}
}

// normalizeEmail lower-cases a bare address (no display name), the only form stored.
func normalizeEmail(s string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(s))
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || len(e) > 254 {
		return "", ErrInvalidEmail
	}
	return e, nil
}

func findAdmin(tx *gorm.DB, id, email string, forUpdate bool) (*adminRow, error) {
	q := tx.Model(&adminRow{})
	if id != "" {
		if _, err := uuid.Parse(id); err != nil {
			return nil, ErrUserNotFound
		}
		q = q.Where("id = ?", id)
	} else {
		q = q.Where("email = ?", email)
	}
	if forUpdate {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var r adminRow
	err := q.Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrUserNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("find platform admin: %w", err)
	}
	return &r, nil
}

// CreateAdmin adds a platform admin. Errors: ErrInvalidEmail, ErrInvalidRole,
// ErrPasswordTooShort, ErrAdminExists (the email is taken; nothing changes).
func (s *Service) CreateAdmin(ctx context.Context, email, password string, role AdminRole) (*Admin, error) {
	e, err := normalizeEmail(email)
	if err != nil {
		return nil, err
	}
	switch role {
	case AdminOwner, AdminSupport, AdminFinance:
	default:
		return nil, fmt.Errorf("%w: %q", ErrInvalidRole, role)
	}
	h, err := hashPassword(password)
	if err != nil {
		return nil, err
	}
	row := adminRow{ID: uuid.NewString(), Email: e, PasswordHash: h, Role: role, CreatedAt: s.now()}
	res := s.db.Gorm.WithContext(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "email"}}, DoNothing: true}).Create(&row)
	if res.Error != nil {
		return nil, fmt.Errorf("create platform admin: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, ErrAdminExists
	}
	return row.view(), nil
}

// Admin returns the platform admin with id; ErrUserNotFound when there is none.
func (s *Service) Admin(ctx context.Context, id string) (*Admin, error) {
	r, err := findAdmin(s.db.Gorm.WithContext(ctx), id, "", false)
	if err != nil {
		return nil, err
	}
	return r.view(), nil
}

// LoginAdmin signs a platform admin in on the platform host. Errors: ErrBadCredentials
// (unknown email or wrong password, after the same work), *RateLimitError (too many failures
// for this email or client), ErrUserDisabled (only to someone who knew the password).
func (s *Service) LoginAdmin(ctx context.Context, email, password, ip string) (*Session, *Admin, error) {
	e, err := normalizeEmail(email)
	if err != nil {
		return nil, nil, ErrBadCredentials
	}
	k := s.platformRedis()
	emailFails, ipFails := k.failures("email", e), k.ipFailures(ip)
	if err := s.checkLocked(ctx, emailFails, ipFails); err != nil {
		return nil, nil, err
	}
	row, err := findAdmin(s.db.Gorm.WithContext(ctx), "", e, false)
	if err != nil && !errors.Is(err, ErrUserNotFound) {
		return nil, nil, err
	}
	var hash string
	if row != nil {
		hash = row.PasswordHash
	}
	ok, err := checkPassword(password, hash, s.dummyHash)
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		s.recordFailure(ctx, emailFails, ipFails)
		target, why := "email:"+k.tag("email", e), ErrUserNotFound
		if row != nil {
			target, why = "admin:"+row.ID, ErrBadCredentials
		}
		s.auditPlatform(ctx, failureEntry(target, ip, methodPassword, why))
		return nil, nil, ErrBadCredentials
	}
	var (
		sess    *Session
		a       *Admin
		refused error
	)
	err = s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		locked, err := findAdmin(tx, row.ID, "", true)
		if err != nil {
			return err
		}
		a = locked.view()
		if a.DisabledAt != nil {
			refused = ErrUserDisabled
			return audit.RecordPlatform(tx, nil, failureEntry("admin:"+a.ID, ip, methodPassword, refused))
		}
		now := s.now()
		refresh, refreshExp, err := platformRefresh.issue(tx, a.ID, newFamily(), now, s.cfg.RefreshTTL)
		if err != nil {
			return err
		}
		if err := tx.Model(&adminRow{}).Where("id = ?", a.ID).Update("last_login_at", now).Error; err != nil {
			return fmt.Errorf("update platform admin: %w", err)
		}
		a.LastLoginAt = &now
		who := "platform:" + a.ID
		if err := audit.RecordPlatform(tx, nil, audit.Entry{Actor: who, Action: actionLogin, Target: "admin:" + a.ID, IP: ip,
			Meta: map[string]any{"method": methodPassword}}); err != nil {
			return err
		}
		access, exp, err := s.mintPlatform(a, now)
		if err != nil {
			return err
		}
		sess = &Session{AccessToken: access, RefreshToken: refresh, TokenType: TokenType, ExpiresAt: exp, RefreshExpiresAt: refreshExp}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if refused != nil {
		return nil, nil, refused
	}
	s.clearFailures(ctx, emailFails)
	return sess, a, nil
}

// RefreshAdmin is Refresh for platform sessions, with the same rules and errors. The new
// access token carries the admin's current role.
func (s *Service) RefreshAdmin(ctx context.Context, refreshToken, ip string) (*Session, error) {
	var (
		sess  *Session
		r     *rotation
		admin *adminRow
	)
	err := s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now := s.now()
		var err error
		r, err = s.rotateRefresh(tx, platformRefresh, refreshToken, now, func(adminID string) (bool, error) {
			if admin, err = findAdmin(tx, adminID, "", false); err != nil {
				return false, err
			}
			return admin.DisabledAt == nil, nil
		})
		if err != nil {
			return err
		}
		if errors.Is(r.refused, ErrRefreshReused) {
			return audit.RecordPlatform(tx, nil, audit.Entry{Actor: actorAnonymous, Action: actionRefreshReused,
				Target: "admin:" + r.owner, IP: ip, Meta: map[string]any{"family": r.family}})
		}
		if r.refused != nil {
			return nil
		}
		access, exp, err := s.mintPlatform(admin.view(), now)
		if err != nil {
			return err
		}
		sess = &Session{AccessToken: access, RefreshToken: r.token, TokenType: TokenType, ExpiresAt: exp, RefreshExpiresAt: r.expires}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if r.refused != nil {
		return nil, r.refused
	}
	return sess, nil
}

// LogoutAdmin revokes the family of a platform refresh token; see Logout.
func (s *Service) LogoutAdmin(ctx context.Context, refreshToken string) error {
	return s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		row, err := platformRefresh.lock(tx, refreshToken)
		if err != nil {
			return err
		}
		if row.RevokedAt != nil {
			return nil
		}
		if err := platformRefresh.revokeFamily(tx, row.FamilyID, s.now()); err != nil {
			return err
		}
		return audit.RecordPlatform(tx, nil, audit.Entry{Actor: "platform:" + row.OwnerID, Action: actionLogout, Target: "admin:" + row.OwnerID})
	})
}

// auditPlatform writes e to the platform audit log on its own; failures are logged.
func (s *Service) auditPlatform(ctx context.Context, e audit.Entry) {
	if err := audit.RecordPlatform(s.db.Gorm.WithContext(context.WithoutCancel(ctx)), nil, e); err != nil {
		s.log.ErrorContext(ctx, "identity: cannot audit platform login", "err", err)
	}
}
