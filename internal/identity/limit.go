package identity

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// loginWindow is the window of config.Auth.LoginFailuresPer15m.
const loginWindow = 15 * time.Minute

// hitScript counts one event in a fixed window that opens with the window's first event, and
// returns the count and the time left in the window. A key that lost its expiry (it cannot,
// short of a manual SET) gets one again rather than counting forever.
var hitScript = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}
`)

// hit counts one event under key and reports the count so far in the window and the time
// until the window closes.
func (s *Service) hit(ctx context.Context, key string, window time.Duration) (int64, time.Duration, error) {
	v, err := hitScript.Run(ctx, s.rdb, []string{key}, window.Milliseconds()).Int64Slice()
	if err != nil {
		return 0, 0, fmt.Errorf("count %s: %w", key, err)
	}
	return v[0], time.Duration(v[1]) * time.Millisecond, nil
}

// allow counts one event against limit per window; past the limit it returns a
// *RateLimitError naming which.
func (s *Service) allow(ctx context.Context, key string, limit int, window time.Duration, which Limit) error {
	n, ttl, err := s.hit(ctx, key, window)
	if err != nil {
		return err
	}
	if n > int64(limit) {
		return &RateLimitError{Limit: which, RetryAfter: ttl}
	}
	return nil
}

// checkLocked returns a *RateLimitError when any of the failure counters reached the login
// failure limit, with the wait until the last of those windows closes. It counts nothing.
func (s *Service) checkLocked(ctx context.Context, keys ...string) error {
	pipe := s.rdb.Pipeline()
	counts := make([]*redis.StringCmd, len(keys))
	ttls := make([]*redis.DurationCmd, len(keys))
	for i, k := range keys {
		counts[i] = pipe.Get(ctx, k)
		ttls[i] = pipe.PTTL(ctx, k)
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("read login failures: %w", err)
	}
	var wait time.Duration
	for i := range keys {
		n, err := counts[i].Int()
		if err != nil || n < s.cfg.LoginFailuresPer15m {
			continue
		}
		if d := ttls[i].Val(); d > wait {
			wait = d
		}
	}
	if wait > 0 {
		return &RateLimitError{Limit: LimitLoginLocked, RetryAfter: wait}
	}
	return nil
}

// recordFailure counts a failed login under each key. Counting is best effort: a Redis error
// is logged rather than turning a wrong password into a server error.
func (s *Service) recordFailure(ctx context.Context, keys ...string) {
	for _, k := range keys {
		if _, _, err := s.hit(ctx, k, loginWindow); err != nil {
			s.log.WarnContext(ctx, "identity: cannot count login failure", "err", err)
		}
	}
}

// clearFailures forgets an account's failures after it signed in. The client's counter stays:
// signing in to one account must not buy more guesses at others.
func (s *Service) clearFailures(ctx context.Context, key string) {
	if err := s.rdb.Del(ctx, key).Err(); err != nil {
		s.log.WarnContext(ctx, "identity: cannot clear login failures", "err", err)
	}
}

// gapScript starts a quiet period unless one is running, in which case it returns the time
// left; one step, so two concurrent requests cannot both pass.
var gapScript = redis.NewScript(`
if redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then return 0 end
return redis.call('PTTL', KEYS[1])
`)

// gap refuses with LimitResend while key's quiet period runs, else starts one of interval.
func (s *Service) gap(ctx context.Context, key string, interval time.Duration) error {
	wait, err := gapScript.Run(ctx, s.rdb, []string{key}, interval.Milliseconds()).Int64()
	if err != nil {
		return fmt.Errorf("check resend interval: %w", err)
	}
	if wait > 0 {
		return &RateLimitError{Limit: LimitResend, RetryAfter: time.Duration(wait) * time.Millisecond}
	}
	return nil
}
