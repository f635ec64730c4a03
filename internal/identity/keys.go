package identity

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strconv"
)

// deriveKey expands the master key into a 32-byte key for one purpose. Each purpose and each
// tenant gets its own key, so a key leaked from one use (or one tenant) opens nothing else.
func deriveKey(master []byte, info string) []byte {
	k, err := hkdf.Key(sha256.New, master, nil, info, 32)
	if err != nil {
		// Only FIPS-mode restrictions make HKDF-SHA256 fail, and then nothing else here works.
		panic(fmt.Sprintf("identity: derive %s: %v", info, err))
	}
	return k
}

// HKDF info strings. They are part of every key; changing one invalidates what it signed.
func jwtInfo(tenantID int64) string { return "paotui:jwt:t:" + strconv.FormatInt(tenantID, 10) }
func otpInfo(tenantID int64) string { return "paotui:otp:t:" + strconv.FormatInt(tenantID, 10) }

const (
	platformJWTInfo = "paotui:jwt:platform"
	platformOTPInfo = "paotui:otp:platform"
)

// Audiences of access tokens and refresh token rows.
func tenantAudience(tenantID int64) string { return "t:" + strconv.FormatInt(tenantID, 10) }

const platformAudience = "platform"

// mac is a hex HMAC-SHA256 of parts joined by NUL (no part holds NUL, so joins cannot collide).
func mac(key []byte, parts ...string) string {
	h := hmac.New(sha256.New, key)
	for i, p := range parts {
		if i > 0 {
			h.Write([]byte{0})
		}
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// redisKeys names a tenant's (or the platform's) keys in Redis. Phones and emails never
// appear in a key: they are replaced by a keyed tag, so a Redis dump or MONITOR shows no
// personal data, and the tag of one tenant says nothing about another's.
type redisKeys struct {
	prefix string // "paotui:t:<id>:" or "paotui:p:"
	secret []byte // HMAC key for tags and code hashes
}

func (s *Service) tenantRedis(tenantID int64) redisKeys {
	return redisKeys{prefix: "paotui:t:" + strconv.FormatInt(tenantID, 10) + ":", secret: deriveKey(s.master, otpInfo(tenantID))}
}

func (s *Service) platformRedis() redisKeys {
	return redisKeys{prefix: "paotui:p:", secret: s.platformOTP}
}

// tag stands for a phone or email in keys and audit targets: 128 bits of a keyed HMAC.
func (k redisKeys) tag(kind, value string) string { return mac(k.secret, kind, value)[:32] }

func (k redisKeys) code(phone string) string { return k.prefix + "otp:code:" + k.tag("phone", phone) }
func (k redisKeys) resend(phone string) string {
	return k.prefix + "otp:resend:" + k.tag("phone", phone)
}
func (k redisKeys) phoneHourly(phone string) string {
	return k.prefix + "otp:hour:phone:" + k.tag("phone", phone)
}
func (k redisKeys) ipHourly(ip string) string { return k.prefix + "otp:hour:ip:" + k.client(ip) }
func (k redisKeys) failures(kind, value string) string {
	return k.prefix + "login:fail:" + kind + ":" + k.tag(kind, value)
}
func (k redisKeys) ipFailures(ip string) string { return k.prefix + "login:fail:ip:" + k.client(ip) }

// client is the rate-limit bucket of a client address. An IPv6 client usually holds a whole
// /64, so that is the bucket; anything that is not an address (empty, garbage) is tagged, so
// it cannot inject into the key and still lands in a bucket of its own.
func (k redisKeys) client(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return "x" + k.tag("ip", ip)
	}
	a = a.Unmap().WithZone("")
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// codeHash is what Redis stores instead of the code: keyed by the tenant's secret and bound
// to the phone, so the six digits cannot be recovered by hashing all million candidates.
func (k redisKeys) codeHash(phone, code string) string { return mac(k.secret, "code", phone, code) }
