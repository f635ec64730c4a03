package identity

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/alexedwards/argon2id"
	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/audit"
	"github.com/paotui/paotui/internal/config"
	"github.com/paotui/paotui/internal/pii"
	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/store"
)

// Keyring hands out a tenant's personal-data cipher; *pii.Keyring is the implementation.
type Keyring interface {
	For(ctx context.Context, tenantID int64) (*pii.Cipher, error)
}

// Service signs people in and out. It is safe for concurrent use; one per process.
type Service struct {
	// seatCheck, when set, may refuse giving a role to a user (the plan's staff seats).
	seatCheck func(ctx context.Context, t *tenancy.Tenant, userID, role string) error
	db        *store.DB
	rdb       redis.UniversalClient
	keys      Keyring
	sms       Sender
	cfg       config.Auth
	log       *slog.Logger
	now       func() time.Time

	master         []byte
	platformJWTKey []byte
	platformOTP    []byte
	// dummyHash is compared when there is no password to compare, so refusals take as long
	// whether or not the account exists.
	dummyHash string
}

// NewService builds the service. masterKey (32 bytes, config.Config.MasterKeyBytes) is the
// root of the token-signing keys and of the keys that hide phones in Redis; rotating it signs
// everyone out.
func NewService(db *store.DB, rdb redis.UniversalClient, keys Keyring, sms Sender, cfg config.Auth, masterKey []byte, log *slog.Logger) (*Service, error) {
	if len(masterKey) != 32 {
		return nil, fmt.Errorf("identity: master key must be 32 bytes, got %d", len(masterKey))
	}
	if log == nil {
		log = slog.Default()
	}
	dummy, err := argon2id.CreateHash("not a password: timing filler", passwordParams)
	if err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	master := append([]byte(nil), masterKey...)
	return &Service{
		db: db, rdb: rdb, keys: keys, sms: sms, cfg: cfg, log: log,
		now:            func() time.Time { return time.Now().UTC() },
		master:         master,
		platformJWTKey: deriveKey(master, platformJWTInfo),
		platformOTP:    deriveKey(master, platformOTPInfo),
		dummyHash:      dummy,
	}, nil
}

// Audit vocabulary. Actions and reasons are stable codes that reports and alerts match on.
const (
	actionLogin         = "auth.login"
	actionLoginFailed   = "auth.login_failed"
	actionLogout        = "auth.logout"
	actionRefreshReused = "auth.refresh_reused"

	methodSMS      = "sms"
	methodPassword = "password"

	// actorAnonymous acts for requests that have not proved who they are.
	actorAnonymous = "anonymous"
)

// reason is why a login failed, as written to the audit log.
func reason(err error) string {
	switch {
	case errors.Is(err, ErrCodeInvalid):
		return "code_invalid"
	case errors.Is(err, ErrCodeExpired):
		return "code_expired"
	case errors.Is(err, ErrCodeBurnt):
		return "code_burnt"
	case errors.Is(err, ErrUserDisabled):
		return "user_disabled"
	case errors.Is(err, ErrUserNotFound):
		return "unknown_user"
	case errors.Is(err, errNoPassword):
		return "no_password"
	default:
		return "bad_password"
	}
}

// errNoPassword is an audit reason only: callers see ErrBadCredentials.
var errNoPassword = errors.New("user has no password")

// SendCode sends a fresh login code to phone, replacing any earlier one, and returns how long
// the client must wait before asking again. Refusals are *RateLimitError: too soon after the
// last code (LimitResend), or the hourly cap of the client's address or of the phone spent.
// The phone does not have to belong to a user yet: first login creates the user.
func (s *Service) SendCode(ctx context.Context, t *tenancy.Tenant, phone, ip string) (time.Duration, error) {
	return s.sendCode(ctx, s.tenantRedis(t.ID), phone, ip)
}

// sendCode sends a login code to phone under k's key space, charging the resend gap and the
// hourly allowances of the phone and the client address.
func (s *Service) sendCode(ctx context.Context, k redisKeys, phone, ip string) (time.Duration, error) {
	p, err := pii.NormalizePhone(phone)
	if err != nil {
		return 0, err
	}
	resend := k.resend(p)
	if err := s.gap(ctx, resend, s.cfg.SMSResendInterval); err != nil {
		return 0, err
	}
	// The address is charged before the phone: a client over its own cap must not be able to
	// spend a victim phone's hourly allowance.
	err = s.allow(ctx, k.ipHourly(ip), s.cfg.SMSPerIPPerHour, time.Hour, LimitIPHourly)
	if err == nil {
		err = s.allow(ctx, k.phoneHourly(p), s.cfg.SMSPerPhonePerHour, time.Hour, LimitPhoneHourly)
	}
	if err != nil {
		// Nothing was sent, so the resend gap should not make the client wait on top.
		s.rdb.Del(context.WithoutCancel(ctx), resend)
		return 0, err
	}
	code, err := newCode()
	if err != nil {
		return 0, err
	}
	if err := s.storeCode(ctx, k, p, code); err != nil {
		return 0, err
	}
	if err := s.sms.Send(ctx, p, fmt.Sprintf(codeText, code, codeMinutes(s.cfg.SMSCodeTTL))); err != nil {
		// Let the client retry at once; the hourly allowances stay spent.
		s.rdb.Del(context.WithoutCancel(ctx), resend, k.code(p))
		return 0, fmt.Errorf("send sms to %s: %w", pii.MaskPhone(p), err)
	}
	return s.cfg.SMSResendInterval, nil
}

// LoginWithCode signs in with the code SendCode sent, creating the user on their first login
// (created is then true; the caller grants the student role). Errors: ErrInvalidPhone,
// *RateLimitError (too many failures for this phone or client), ErrCodeExpired,
// ErrCodeInvalid, ErrCodeBurnt, ErrUserDisabled. A right code is used up even when the user
// turns out disabled.
func (s *Service) LoginWithCode(ctx context.Context, t *tenancy.Tenant, phone, code, ip string) (sess *Session, u *User, created bool, err error) {
	p, err := pii.NormalizePhone(phone)
	if err != nil {
		return nil, nil, false, err
	}
	k := s.tenantRedis(t.ID)
	phoneFails, ipFails := k.failures("phone", p), k.ipFailures(ip)
	if err := s.checkLocked(ctx, phoneFails, ipFails); err != nil {
		return nil, nil, false, err
	}
	c, err := s.keys.For(ctx, t.ID)
	if err != nil {
		return nil, nil, false, fmt.Errorf("keys of tenant %d: %w", t.ID, err)
	}
	if err := s.checkCode(ctx, k, p, code); err != nil {
		if errors.Is(err, ErrCodeInvalid) || errors.Is(err, ErrCodeExpired) || errors.Is(err, ErrCodeBurnt) {
			s.recordFailure(ctx, phoneFails, ipFails)
			s.auditFailure(ctx, t, c.BlindIndex(fieldPhone, p), ip, methodSMS, err)
		}
		return nil, nil, false, err
	}
	var refused error
	err = s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		if u, created, err = s.FindOrCreateUser(ctx, tx, t, p, ""); err != nil {
			return err
		}
		if u.Status != StatusActive {
			refused = ErrUserDisabled
			return audit.Record(tx, failureEntry("user:"+u.ID, ip, methodSMS, refused))
		}
		sess, err = s.startSession(tx, t, u, ip, methodSMS, created)
		return err
	})
	if err != nil {
		return nil, nil, false, err
	}
	if refused != nil {
		return nil, nil, false, refused
	}
	s.clearFailures(ctx, phoneFails)
	return sess, u, created, nil
}

// LoginWithPassword signs in a user who has set a password (staff). An unknown phone, a user
// without a password and a wrong password all give ErrBadCredentials, after the same amount
// of work. ErrUserDisabled is said only to someone who knew the password.
func (s *Service) LoginWithPassword(ctx context.Context, t *tenancy.Tenant, phone, password, ip string) (*Session, *User, error) {
	p, err := pii.NormalizePhone(phone)
	if err != nil {
		return nil, nil, err
	}
	k := s.tenantRedis(t.ID)
	phoneFails, ipFails := k.failures("phone", p), k.ipFailures(ip)
	if err := s.checkLocked(ctx, phoneFails, ipFails); err != nil {
		return nil, nil, err
	}
	c, err := s.keys.For(ctx, t.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("keys of tenant %d: %w", t.ID, err)
	}
	bidx := c.BlindIndex(fieldPhone, p)
	var row *userRow
	err = s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		row, err = findUser(tx, "", bidx, false)
		return err
	})
	if err != nil && !errors.Is(err, ErrUserNotFound) {
		return nil, nil, err
	}
	// The comparison runs outside any transaction: argon2id should not hold a connection.
	var hash string
	if row != nil {
		hash = row.passwordHash()
	}
	ok, err := checkPassword(password, hash, s.dummyHash)
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		why := ErrUserNotFound
		if row != nil {
			why = errNoPassword
			if hash != "" {
				why = ErrBadCredentials
			}
		}
		s.recordFailure(ctx, phoneFails, ipFails)
		s.auditFailure(ctx, t, bidx, ip, methodPassword, why)
		return nil, nil, ErrBadCredentials
	}
	var (
		sess    *Session
		u       *User
		refused error
	)
	err = s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		// Read again under lock: the user may have been disabled while the hash was compared.
		locked, err := findUser(tx, row.ID, nil, true)
		if err != nil {
			return err
		}
		if u, err = locked.view(c); err != nil {
			return err
		}
		if u.Status != StatusActive {
			refused = ErrUserDisabled
			return audit.Record(tx, failureEntry("user:"+u.ID, ip, methodPassword, refused))
		}
		sess, err = s.startSession(tx, t, u, ip, methodPassword, false)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	if refused != nil {
		return nil, nil, refused
	}
	s.clearFailures(ctx, phoneFails)
	return sess, u, nil
}

// startSession opens a new refresh family for u, records the login and mints the access token.
func (s *Service) startSession(tx *gorm.DB, t *tenancy.Tenant, u *User, ip, method string, created bool) (*Session, error) {
	now := s.now()
	refresh, refreshExp, err := tenantRefresh(t.ID).issue(tx, u.ID, newFamily(), now, s.cfg.RefreshTTL)
	if err != nil {
		return nil, err
	}
	if err := updateUser(tx, u.ID, map[string]any{"last_login_at": now}, now); err != nil {
		return nil, err
	}
	u.LastLoginAt = &now
	meta := map[string]any{"method": method}
	if created {
		meta["created"] = true
	}
	who := "user:" + u.ID
	if err := audit.Record(tx, audit.Entry{Actor: who, Action: actionLogin, Target: who, IP: ip, Meta: meta}); err != nil {
		return nil, err
	}
	access, exp, err := s.mintAccess(t, u.ID, now)
	if err != nil {
		return nil, err
	}
	return &Session{AccessToken: access, RefreshToken: refresh, TokenType: TokenType, ExpiresAt: exp, RefreshExpiresAt: refreshExp}, nil
}

// bidxPrefix shortens a blind index for audit targets: 24 bytes, of which the first 5 are
// Tink's key-id prefix and the other 19 (152 bits) of MAC are ample to tell phones apart.
func bidxPrefix(bidx []byte) string {
	return hex.EncodeToString(bidx[:min(len(bidx), 24)])
}

func failureEntry(target, ip, method string, why error) audit.Entry {
	return audit.Entry{Actor: actorAnonymous, Action: actionLoginFailed, Target: target, IP: ip,
		Meta: map[string]any{"method": method, "reason": reason(why)}}
}

// auditFailure records a failed login in its own transaction (nothing else changed). The
// target is the user when the phone belongs to one, else a prefix of the phone's blind index
// in hex (bidxPrefix), which finds the user if that phone signs up later
// (encode(phone_bidx, 'hex') LIKE '<prefix>%') and reveals nothing without the tenant's key.
// A failure to write is logged, not returned: the caller's error matters more.
func (s *Service) auditFailure(ctx context.Context, t *tenancy.Tenant, bidx []byte, ip, method string, why error) {
	err := s.db.InTenant(context.WithoutCancel(ctx), t, func(tx *gorm.DB) error {
		target := "phone_bidx:" + bidxPrefix(bidx)
		if row, err := findUser(tx, "", bidx, false); err == nil {
			target = "user:" + row.ID
		} else if !errors.Is(err, ErrUserNotFound) {
			return err
		}
		return audit.Record(tx, failureEntry(target, ip, method, why))
	})
	if err != nil {
		s.log.ErrorContext(ctx, "identity: cannot audit failed login", "tenant", t.ID, "err", err)
	}
}

// Refresh trades a refresh token for a new session. The presented token is used up; its
// successor continues the same family. Errors: ErrRefreshInvalid (unknown, expired, revoked),
// ErrRefreshReused (the token had been used before: the whole family is now revoked, so
// whoever holds its newest token is signed out too), ErrUserDisabled.
func (s *Service) Refresh(ctx context.Context, t *tenancy.Tenant, refreshToken, ip string) (*Session, error) {
	var (
		sess *Session
		r    *rotation
	)
	err := s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		now := s.now()
		var err error
		r, err = s.rotateRefresh(tx, tenantRefresh(t.ID), refreshToken, now, func(userID string) (bool, error) {
			row, err := findUser(tx, userID, nil, false)
			if err != nil {
				return false, err
			}
			return row.Status == StatusActive, nil
		})
		if err != nil {
			return err
		}
		who := "user:" + r.owner
		if errors.Is(r.refused, ErrRefreshReused) {
			return audit.Record(tx, audit.Entry{Actor: actorAnonymous, Action: actionRefreshReused, Target: who, IP: ip,
				Meta: map[string]any{"family": r.family}})
		}
		if r.refused != nil {
			return nil
		}
		access, exp, err := s.mintAccess(t, r.owner, now)
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

// Logout revokes the family of refreshToken: this device's session ends once its access
// token expires. Logging out twice is not an error; an unknown token is ErrRefreshInvalid.
func (s *Service) Logout(ctx context.Context, t *tenancy.Tenant, refreshToken string) error {
	return s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		rt := tenantRefresh(t.ID)
		row, err := rt.lock(tx, refreshToken)
		if err != nil {
			return err
		}
		if row.RevokedAt != nil {
			return nil
		}
		if err := rt.revokeFamily(tx, row.FamilyID, s.now()); err != nil {
			return err
		}
		who := "user:" + row.OwnerID
		return audit.Record(tx, audit.Entry{Actor: who, Action: actionLogout, Target: who})
	})
}

// rotation is the result of presenting a refresh token.
type rotation struct {
	owner   string // user or admin id
	family  string
	token   string // the successor, when not refused
	expires time.Time
	// refused is ErrRefreshReused or ErrUserDisabled: the family was revoked, a change the
	// transaction must commit before the refusal is returned.
	refused error
}

// rotateRefresh applies the refresh rules to token inside tx. active says whether the owner
// may still sign in.
func (s *Service) rotateRefresh(tx *gorm.DB, rt refreshTable, token string, now time.Time, active func(ownerID string) (bool, error)) (*rotation, error) {
	row, err := rt.lock(tx, token)
	if err != nil {
		return nil, err
	}
	r := &rotation{owner: row.OwnerID, family: row.FamilyID}
	switch row.outcome(now) {
	case refreshDead:
		return nil, ErrRefreshInvalid
	case refreshReplay:
		r.refused = ErrRefreshReused
	default:
		ok, err := active(row.OwnerID)
		if err != nil {
			return nil, err
		}
		if !ok {
			r.refused = ErrUserDisabled
		}
	}
	if r.refused != nil {
		return r, rt.revokeFamily(tx, row.FamilyID, now)
	}
	if r.token, r.expires, err = rt.rotate(tx, row, now, s.cfg.RefreshTTL); err != nil {
		return nil, err
	}
	return r, nil
}

// WithSeatCheck lets grant-role refuse a role the tenant's plan has no seat for (the wiring
// passes the platform's plans; identity does not know them).
func (s *Service) WithSeatCheck(f func(ctx context.Context, t *tenancy.Tenant, userID, role string) error) *Service {
	s.seatCheck = f
	return s
}
