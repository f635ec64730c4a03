package identity

import (
	"errors"
	"fmt"
	"time"

	"github.com/paotui/paotui/internal/pii"
)

// ErrInvalidPhone is returned for a phone that is not a mainland-China mobile number. It is
// pii's sentinel, so errors.Is matches either name.
var ErrInvalidPhone = pii.ErrInvalidPhone

var (
	// ErrCodeInvalid is returned for a wrong SMS code while the code still has tries left.
	ErrCodeInvalid = errors.New("sms code is wrong")
	// ErrCodeExpired is returned when the phone has no active code: never sent, expired, or
	// already used.
	ErrCodeExpired = errors.New("no active sms code for this phone")
	// ErrCodeBurnt is returned once a code took too many wrong tries; even the right code is
	// refused until a new one is sent.
	ErrCodeBurnt = errors.New("sms code took too many wrong tries")
	// ErrTooManyRequests matches every *RateLimitError through errors.Is.
	ErrTooManyRequests = errors.New("too many requests")
	// ErrBadCredentials is returned when a phone or email and password do not match an
	// account with that password. It never says which part was wrong.
	ErrBadCredentials = errors.New("bad credentials")
	// ErrUserDisabled is returned when a disabled user or admin proves who they are.
	ErrUserDisabled = errors.New("account is disabled")
	// ErrUserNotFound is returned for a user or admin id that does not exist here.
	ErrUserNotFound = errors.New("user not found")
	// ErrRefreshInvalid is returned for a refresh token that is unknown, expired or revoked.
	ErrRefreshInvalid = errors.New("refresh token is invalid")
	// ErrRefreshReused is returned when an already rotated refresh token comes back: someone
	// kept a copy, so the whole family (every session descended from that login) is revoked.
	ErrRefreshReused = errors.New("refresh token was reused; session revoked")
	// ErrTokenInvalid is returned for an access token that is malformed, tampered with,
	// signed with another key or meant for another audience.
	ErrTokenInvalid = errors.New("access token is invalid")
	// ErrTokenExpired is returned for a well-signed access token past its expiry: the client
	// should refresh rather than sign in again.
	ErrTokenExpired = errors.New("access token has expired")
	// ErrWrongTenant is returned for an access token issued by another tenant.
	ErrWrongTenant = errors.New("access token belongs to another tenant")
	// ErrPasswordTooShort is returned for a password under MinPasswordLength characters.
	ErrPasswordTooShort = fmt.Errorf("password must be at least %d characters", MinPasswordLength)
	// ErrInvalidName is returned for a name that is too long or holds control characters.
	ErrInvalidName = fmt.Errorf("name must be at most %d characters without control characters", MaxNameLength)
	// ErrAdminExists is returned by CreateAdmin when the email is taken.
	ErrAdminExists = errors.New("a platform admin with this email exists")
	// ErrInvalidEmail is returned for an admin email that is not name@host.
	ErrInvalidEmail = errors.New("invalid email address")
	// ErrInvalidRole is returned for a platform admin role other than owner, support or finance.
	ErrInvalidRole = errors.New("invalid platform admin role")
)

// Limit names which rate limit refused a request, for logs and problem details.
type Limit string

const (
	LimitResend      Limit = "sms_resend_interval"
	LimitPhoneHourly Limit = "sms_phone_hourly"
	LimitIPHourly    Limit = "sms_ip_hourly"
	LimitLoginLocked Limit = "login_locked"
)

// RateLimitError is returned when a limit refuses a request; RetryAfter says when the same
// request may succeed. errors.Is(err, ErrTooManyRequests) holds for it.
type RateLimitError struct {
	Limit      Limit
	RetryAfter time.Duration
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("too many requests (%s): retry after %s", e.Limit, e.RetryAfter.Round(time.Second))
}

// Is makes errors.Is(err, ErrTooManyRequests) true.
func (e *RateLimitError) Is(target error) bool { return target == ErrTooManyRequests }
