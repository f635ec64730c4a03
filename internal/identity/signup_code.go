package identity

import (
	"context"
	"errors"
	"time"

	"github.com/paotui/paotui/internal/pii"
)

// signupOTPInfo keys the SMS codes of signups on the base host: a key space of their own, so a
// code sent to sign in to a tenant never proves a phone for a signup, nor the reverse.
const signupOTPInfo = "paotui:otp:signup"

func (s *Service) signupRedis() redisKeys {
	return redisKeys{prefix: "paotui:s:", secret: deriveKey(s.master, signupOTPInfo)}
}

// SendSignupCode texts a code that proves phone for a signup, with the same resend gap and
// hourly caps as login codes. It returns the wait before another code can be asked for.
// Errors: pii.ErrInvalidPhone, *RateLimitError.
func (s *Service) SendSignupCode(ctx context.Context, phone, ip string) (time.Duration, error) {
	return s.sendCode(ctx, s.signupRedis(), phone, ip)
}

// CheckSignupCode uses up the signup code of phone. Wrong codes count against the phone and
// the client address as failed logins do. Errors: pii.ErrInvalidPhone, *RateLimitError,
// ErrCodeExpired, ErrCodeInvalid, ErrCodeBurnt.
func (s *Service) CheckSignupCode(ctx context.Context, phone, code, ip string) error {
	p, err := pii.NormalizePhone(phone)
	if err != nil {
		return err
	}
	k := s.signupRedis()
	phoneFails, ipFails := k.failures("phone", p), k.ipFailures(ip)
	if err := s.checkLocked(ctx, phoneFails, ipFails); err != nil {
		return err
	}
	if err := s.checkCode(ctx, k, p, code); err != nil {
		if errors.Is(err, ErrCodeInvalid) || errors.Is(err, ErrCodeExpired) || errors.Is(err, ErrCodeBurnt) {
			s.recordFailure(ctx, phoneFails, ipFails)
		}
		return err
	}
	s.clearFailures(ctx, phoneFails)
	return nil
}

// Problem gives identity's errors their HTTP problems for other domains' operations (the
// signup's SMS codes and rate limits).
func Problem(err error) error { return mapErr(err) }
