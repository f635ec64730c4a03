package identity

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/paotui/paotui/internal/platform/tenancy"
)

const issuer = "paotui"

// TokenType is the scheme clients put before the access token in Authorization.
const TokenType = "Bearer"

// Session is what a login or a refresh hands to the client.
type Session struct {
	AccessToken      string    `json:"accessToken"`
	RefreshToken     string    `json:"refreshToken"`
	TokenType        string    `json:"tokenType"`
	ExpiresAt        time.Time `json:"expiresAt"`        // of the access token
	RefreshExpiresAt time.Time `json:"refreshExpiresAt"` // of the refresh token
}

// Claims is what a valid tenant access token says.
type Claims struct {
	UserID    string
	TenantID  int64
	TokenID   string // jti
	IssuedAt  time.Time
	ExpiresAt time.Time
	// Imp is the platform admin acting as this user in a support session (StartImpersonation),
	// "" normally. TokenID is then the session's id, which VerifyAccess checks.
	Imp string
}

// PlatformClaims is what a valid platform access token says.
type PlatformClaims struct {
	AdminID   string
	Role      AdminRole
	TokenID   string
	IssuedAt  time.Time
	ExpiresAt time.Time
	Imp       string // reserved: support sessions are tenant tokens (Claims.Imp); none is minted here
}

// jwtClaims is the wire form of both token kinds.
type jwtClaims struct {
	TenantID int64  `json:"tid,omitempty"`
	Role     string `json:"role,omitempty"`
	Imp      string `json:"imp,omitempty"`
	jwt.RegisteredClaims
}

// mint completes c (issuer, times, id) and signs it with key; it is valid for cfg.AccessTTL from now.
func (s *Service) mint(key []byte, c jwtClaims, now time.Time) (string, time.Time, error) {
	exp := now.Add(s.cfg.AccessTTL)
	c.ID = uuid.NewString()
	tok, err := sign(key, c, now, exp)
	if err != nil {
		return "", time.Time{}, err
	}
	return tok, exp, nil
}

// sign sets issuer and times on c (its id is the caller's) and signs it with key.
func sign(key []byte, c jwtClaims, now, exp time.Time) (string, error) {
	c.Issuer = issuer
	c.IssuedAt = jwt.NewNumericDate(now)
	c.ExpiresAt = jwt.NewNumericDate(exp)
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(key)
	if err != nil {
		return "", fmt.Errorf("sign access token: %w", err)
	}
	return tok, nil
}

// verify checks signature, algorithm, issuer, audience and expiry. Errors are ErrTokenExpired
// or, for a support-session token, ErrImpersonationExpired (only for a genuine token), or
// ErrTokenInvalid.
func (s *Service) verify(key []byte, audience, token string) (*jwtClaims, error) {
	var c jwtClaims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(issuer),
		jwt.WithAudience(audience),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(s.now),
	)
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		// The library checks the signature before the claims, so this token is genuine, and so
		// is its imp claim: a support session has nothing to refresh, the admin must open a new one.
		if c.Imp != "" {
			return nil, ErrImpersonationExpired
		}
		return nil, ErrTokenExpired
	case err != nil:
		return nil, fmt.Errorf("%w: %w", ErrTokenInvalid, err)
	}
	if _, err := uuid.Parse(c.Subject); err != nil || c.IssuedAt == nil {
		return nil, fmt.Errorf("%w: no subject id or issue time", ErrTokenInvalid)
	}
	return &c, nil
}

func (s *Service) tenantJWTKey(tenantID int64) []byte { return deriveKey(s.master, jwtInfo(tenantID)) }

func (s *Service) mintAccess(t *tenancy.Tenant, userID string, now time.Time) (string, time.Time, error) {
	return s.mint(s.tenantJWTKey(t.ID), jwtClaims{
		TenantID:         t.ID,
		RegisteredClaims: jwt.RegisteredClaims{Subject: userID, Audience: jwt.ClaimStrings{tenantAudience(t.ID)}},
	}, now)
}

// ParseAccessToken returns the claims of an access token presented to tenant t. A token
// issued by another tenant fails twice over (signed with that tenant's key, and addressed to
// its audience) and yields ErrWrongTenant; an expired one ErrTokenExpired; anything else
// ErrTokenInvalid. It does not look at the database: a disabled user's token stays valid
// until it expires (cfg.AccessTTL), while refresh is refused at once.
func (s *Service) ParseAccessToken(t *tenancy.Tenant, token string) (*Claims, error) {
	c, err := s.verify(s.tenantJWTKey(t.ID), tenantAudience(t.ID), token)
	if err != nil {
		if otherTenant(token, t.ID) {
			return nil, ErrWrongTenant
		}
		return nil, err
	}
	if c.TenantID != t.ID {
		// Only reachable if two tenants shared a key; refuse rather than trust the audience.
		return nil, ErrWrongTenant
	}
	return &Claims{
		UserID: c.Subject, TenantID: c.TenantID, TokenID: c.ID,
		IssuedAt: c.IssuedAt.Time, ExpiresAt: c.ExpiresAt.Time, Imp: c.Imp,
	}, nil
}

// otherTenant tells a refused token that names another tenant from plain garbage, to give
// the client a clearer error. The unverified claims decide nothing: the token is refused
// either way.
func otherTenant(token string, tenantID int64) bool {
	var c jwtClaims
	if _, _, err := jwt.NewParser().ParseUnverified(token, &c); err != nil {
		return false
	}
	if c.TenantID != 0 && c.TenantID != tenantID {
		return true
	}
	return len(c.Audience) > 0 && !slices.Contains(c.Audience, tenantAudience(tenantID)) &&
		!slices.Contains(c.Audience, platformAudience)
}

func (s *Service) mintPlatform(a *Admin, now time.Time) (string, time.Time, error) {
	return s.mint(s.platformJWTKey, jwtClaims{
		Role:             string(a.Role),
		RegisteredClaims: jwt.RegisteredClaims{Subject: a.ID, Audience: jwt.ClaimStrings{platformAudience}},
	}, now)
}

// ParsePlatformToken returns the claims of a platform access token. Tenant tokens are
// refused (other key, other audience) with ErrTokenInvalid; expired ones with ErrTokenExpired.
// The role is as of login: a role change takes effect at the next refresh.
func (s *Service) ParsePlatformToken(token string) (*PlatformClaims, error) {
	c, err := s.verify(s.platformJWTKey, platformAudience, token)
	if err != nil {
		return nil, err
	}
	return &PlatformClaims{
		AdminID: c.Subject, Role: AdminRole(c.Role), TokenID: c.ID,
		IssuedAt: c.IssuedAt.Time, ExpiresAt: c.ExpiresAt.Time, Imp: c.Imp,
	}, nil
}
