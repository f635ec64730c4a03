package pricing

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

const (
	// MinKeyLen is the shortest signing key NewSigner accepts (256 bits, HMAC-SHA256's size).
	MinKeyLen = 32
	// MaxTokenLen is the longest string Verify will look at; real tokens are 152 bytes.
	MaxTokenLen = 400

	tokenVersion = 1
	nonceLen     = 16
	// payload: version | tenant | digest | total | distance | expiry unix | nonce
	payloadLen = 1 + 8 + sha256.Size + 8 + 8 + 8 + nonceLen
)

var (
	// Strict so every payload has exactly one encoding: an edited trailing character cannot
	// decode to the same bytes and slip past the signature.
	b64 = base64.RawURLEncoding.Strict()
	// macContext separates quote tokens from anything else signed with the same key by mistake.
	macContext = []byte("paotui quote token\x00")
	// digestContext separates the input digest from other SHA-256 uses.
	digestContext = []byte("paotui quote input v1\x00")
)

// Claims is what a verified token vouches for. Charge Total; it is the quoted price.
type Claims struct {
	// ID is the token's random id (32 hex digits); store it to make a quote single-use.
	ID             string    `json:"id"`
	TenantID       int64     `json:"tenantId"`
	Total          Money     `json:"total"`
	DistanceMeters int64     `json:"distanceMeters"`
	ExpiresAt      time.Time `json:"expiresAt"`
	// Digest is the SHA-256 of the canonical inputs the quote was made for.
	Digest [sha256.Size]byte `json:"-"`
}

// Signer issues and verifies quote tokens. It is safe for concurrent use.
type Signer struct {
	key []byte
	ttl time.Duration
	now func() time.Time
}

// NewSigner returns a Signer whose tokens live for ttl (1 s..24 h; expiry has whole-second
// resolution). key must be at least MinKeyLen bytes of secret randomness and is copied.
// now is the clock; nil means time.Now.
func NewSigner(key []byte, ttl time.Duration, now func() time.Time) (*Signer, error) {
	if len(key) < MinKeyLen {
		return nil, fmt.Errorf("quote signing key has %d bytes; at least %d required", len(key), MinKeyLen)
	}
	if ttl < time.Second || ttl > 24*time.Hour {
		return nil, fmt.Errorf("quote ttl must be 1s..24h, got %v", ttl)
	}
	if now == nil {
		now = time.Now
	}
	return &Signer{key: append([]byte(nil), key...), ttl: ttl, now: now}, nil
}

// Issue signs the quote b for tenantID and the inputs it was computed from. b must come
// from Quote: its lines must add up to a non-negative Total.
func (s *Signer) Issue(tenantID int64, in Input, b Breakdown) (token string, expiresAt time.Time, err error) {
	var sum Money
	for _, l := range b.Lines {
		sum += l.Amount
	}
	if sum != b.Total || b.Total < 0 || b.DistanceMeters < 0 {
		return "", time.Time{}, errors.New("issue quote token: breakdown is not a quote")
	}
	var p [payloadLen]byte
	p[0] = tokenVersion
	binary.BigEndian.PutUint64(p[1:], uint64(tenantID))
	d := digest(in)
	copy(p[9:], d[:])
	binary.BigEndian.PutUint64(p[41:], uint64(b.Total))
	binary.BigEndian.PutUint64(p[49:], uint64(b.DistanceMeters))
	exp := s.now().Add(s.ttl).Unix()
	binary.BigEndian.PutUint64(p[57:], uint64(exp))
	if _, err := rand.Read(p[65:]); err != nil {
		return "", time.Time{}, fmt.Errorf("issue quote token: %w", err)
	}
	sig := s.sign(p[:])
	return b64.EncodeToString(p[:]) + "." + b64.EncodeToString(sig[:]), time.Unix(exp, 0), nil
}

// Verify checks token for tenantID and the order's inputs and returns what it vouches for.
// Errors, checked in this order: ErrQuoteMalformed, ErrQuoteTampered (bad signature or
// another tenant's token), ErrQuoteExpired, ErrQuoteMismatch. Verify does not make a token
// single-use; store Claims.ID for that.
func (s *Signer) Verify(token string, tenantID int64, in Input) (Claims, error) {
	p, sig, err := decode(token)
	if err != nil {
		return Claims{}, err
	}
	want := s.sign(p[:])
	if !hmac.Equal(sig[:], want[:]) {
		return Claims{}, ErrQuoteTampered
	}
	// A genuine token of another version comes from a newer deployment; refuse it as
	// unreadable rather than guess at its layout.
	if p[0] != tokenVersion {
		return Claims{}, fmt.Errorf("%w: version %d", ErrQuoteMalformed, p[0])
	}
	c := claims(p)
	if c.TenantID != tenantID {
		return Claims{}, fmt.Errorf("%w: issued for another tenant", ErrQuoteTampered)
	}
	if !s.now().Before(c.ExpiresAt) {
		return Claims{}, fmt.Errorf("%w: at %s", ErrQuoteExpired, c.ExpiresAt.UTC().Format(time.RFC3339))
	}
	if digest(in) != c.Digest {
		return Claims{}, ErrQuoteMismatch
	}
	return c, nil
}

// TokenID reads a token's id WITHOUT checking its signature, for logs and lookups. Anything
// that matters (charging, single use) must use Claims.ID from Verify.
func TokenID(token string) (string, error) {
	p, _, err := decode(token)
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(p[65:]), nil
}

func decode(token string) (p [payloadLen]byte, sig [sha256.Size]byte, err error) {
	if len(token) > MaxTokenLen {
		return p, sig, fmt.Errorf("%w: too long", ErrQuoteMalformed)
	}
	body, mac, ok := strings.Cut(token, ".")
	// Exact lengths also rule out the \r and \n the base64 decoder would silently skip.
	if !ok || len(body) != b64.EncodedLen(payloadLen) || len(mac) != b64.EncodedLen(sha256.Size) {
		return p, sig, ErrQuoteMalformed
	}
	if n, err := b64.Decode(p[:], []byte(body)); err != nil || n != payloadLen {
		return p, sig, ErrQuoteMalformed
	}
	if n, err := b64.Decode(sig[:], []byte(mac)); err != nil || n != sha256.Size {
		return p, sig, ErrQuoteMalformed
	}
	return p, sig, nil
}

func claims(p [payloadLen]byte) Claims {
	c := Claims{
		ID:             hex.EncodeToString(p[65:]),
		TenantID:       int64(binary.BigEndian.Uint64(p[1:])),
		Total:          Money(binary.BigEndian.Uint64(p[41:])),
		DistanceMeters: int64(binary.BigEndian.Uint64(p[49:])),
		ExpiresAt:      time.Unix(int64(binary.BigEndian.Uint64(p[57:])), 0),
	}
	copy(c.Digest[:], p[9:41])
	return c
}

func (s *Signer) sign(payload []byte) [sha256.Size]byte {
	m := hmac.New(sha256.New, s.key)
	m.Write(macContext)
	m.Write(payload)
	var out [sha256.Size]byte
	m.Sum(out[:0])
	return out
}

// digest is the SHA-256 of the canonical encoding of everything in Input but At: strings
// length-prefixed, integers big-endian, coordinates rounded to 1e-6° (about 11 cm), so
// re-sending a point through JSON cannot cause a spurious mismatch.
func digest(in Input) [sha256.Size]byte {
	buf := make([]byte, 0, len(digestContext)+8+len(in.TaskType)+4*8+8+len(in.Size)+3*8)
	buf = append(buf, digestContext...)
	buf = appendString(buf, in.TaskType)
	for _, v := range [4]float64{in.Pickup.Lng, in.Pickup.Lat, in.Dropoff.Lng, in.Dropoff.Lat} {
		buf = binary.BigEndian.AppendUint64(buf, uint64(micro(v)))
	}
	buf = appendString(buf, in.Size)
	buf = binary.BigEndian.AppendUint64(buf, uint64(int64(in.Minutes)))
	buf = binary.BigEndian.AppendUint64(buf, uint64(in.Tip))
	buf = binary.BigEndian.AppendUint64(buf, uint64(in.Coupon))
	return sha256.Sum256(buf)
}

// micro rounds degrees to whole millionths. Values no valid point has (NaN, ±Inf, huge)
// map to a fixed sentinel so the result does not depend on the platform's float conversion.
func micro(deg float64) int64 {
	if !(deg >= -1000 && deg <= 1000) {
		return math.MinInt64
	}
	return int64(math.Round(deg * 1e6))
}

func appendString(buf []byte, s string) []byte {
	buf = binary.BigEndian.AppendUint64(buf, uint64(len(s)))
	return append(buf, s...)
}
