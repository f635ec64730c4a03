package identity

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/paotui/paotui/internal/httpx"
)

// TokenProblem is the HTTP meaning of a VerifyAccess error for the gate: support-session
// refusals get their own codes, so the admin's screen can say the session is over rather
// than ask them to sign in again; the other refusals (invalid, expired, another tenant's) pass
// unchanged and the gate answers token_invalid; anything else is a fault of ours (the session
// could not be read), wrapped in an unavailable problem so it is neither a 401 nor lost from
// the log.
func TokenProblem(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrImpersonationExpired):
		return httpx.NewProblem(http.StatusUnauthorized, "impersonation_expired",
			"this support session has expired; open a new one from the platform panel")
	case errors.Is(err, ErrImpersonationEnded):
		return httpx.NewProblem(http.StatusUnauthorized, "impersonation_ended",
			"this support session was ended; open a new one from the platform panel")
	case errors.Is(err, ErrTokenInvalid), errors.Is(err, ErrTokenExpired), errors.Is(err, ErrWrongTenant):
		return err
	default:
		return fmt.Errorf("%w: %w", httpx.NewProblem(http.StatusServiceUnavailable, "unavailable",
			"the service is briefly unavailable; try again").WithRetryAfter(2e9), err)
	}
}
