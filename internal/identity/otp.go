package identity

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"time"

	"github.com/redis/go-redis/v9"
)

// codeDigits is the length of an SMS login code.
const codeDigits = 6

// codeText is the SMS a user receives. The code is the only run of six digits in it, which
// LogSender relies on.
const codeText = "【跑腿】您的登录验证码是 %s，%d 分钟内有效。如非本人操作，请忽略本短信。"

func newCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", fmt.Errorf("generate code: %w", err)
	}
	return fmt.Sprintf("%0*d", codeDigits, n.Int64()), nil
}

// storeCode replaces the phone's code (and its count of wrong tries) with a new one.
func (s *Service) storeCode(ctx context.Context, k redisKeys, phone, code string) error {
	key := k.code(phone)
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, key)
		p.HSet(ctx, key, "h", k.codeHash(phone, code))
		p.PExpire(ctx, key, s.cfg.SMSCodeTTL)
		return nil
	})
	if err != nil {
		return fmt.Errorf("store code: %w", err)
	}
	return nil
}

// checkScript compares a code hash with the stored one in one step, so concurrent guesses
// cannot share a try. A right code is deleted (one use); a wrong one counts, and the last
// allowed wrong try burns the code, which then refuses even the right digits until it expires
// or a new code replaces it. Results: 0 no code, 1 ok, 2 wrong, 3 burnt.
var checkScript = redis.NewScript(`
local h = redis.call('HGET', KEYS[1], 'h')
if not h then return 0 end
if redis.call('HEXISTS', KEYS[1], 'burnt') == 1 then return 3 end
if h == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
local n = redis.call('HINCRBY', KEYS[1], 'wrong', 1)
if n >= tonumber(ARGV[2]) then
  redis.call('HSET', KEYS[1], 'burnt', '1')
  return 3
end
return 2
`)

// checkCode consumes code for phone: nil when it matches, else ErrCodeExpired,
// ErrCodeInvalid or ErrCodeBurnt.
func (s *Service) checkCode(ctx context.Context, k redisKeys, phone, code string) error {
	r, err := checkScript.Run(ctx, s.rdb, []string{k.code(phone)}, k.codeHash(phone, code), s.cfg.SMSCodeAttempts).Int()
	if err != nil {
		return fmt.Errorf("check code: %w", err)
	}
	switch r {
	case 1:
		return nil
	case 2:
		return ErrCodeInvalid
	case 3:
		return ErrCodeBurnt
	default:
		return ErrCodeExpired
	}
}

// codeMinutes is the code lifetime as the SMS states it, rounded up.
func codeMinutes(ttl time.Duration) int {
	return int((ttl + time.Minute - 1) / time.Minute)
}
