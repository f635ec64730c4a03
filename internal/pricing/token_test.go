package pricing

import (
	"encoding/base64"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
)

var (
	testKey = []byte("0123456789abcdef0123456789abcdef")
	t0      = time.Date(2025, 3, 4, 2, 0, 0, 0, time.UTC)
)

// fakeClock is a settable now for expiry tests.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func newSigner(t testing.TB, key []byte, c *fakeClock) *Signer {
	t.Helper()
	s, err := NewSigner(key, 10*time.Minute, c.now)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// issued quotes the default test order and issues a token for tenant 7.
func issued(t testing.TB, s *Signer) (string, Input, Breakdown) {
	t.Helper()
	in := with(order(2345), func(in *Input) { in.Size = "medium"; in.Tip = 200; in.Minutes = 5; in.Coupon = 50 })
	b, err := Quote(delivery(), nil, in, shanghai)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := s.Issue(7, in, b)
	if err != nil {
		t.Fatal(err)
	}
	return tok, in, b
}

func TestTokenRoundTrip(t *testing.T) {
	t.Parallel()
	c := &fakeClock{t0}
	s := newSigner(t, testKey, c)
	in := with(order(2345), func(in *Input) { in.Size = "medium" })
	b, err := Quote(delivery(), nil, in, shanghai)
	if err != nil {
		t.Fatal(err)
	}
	tok, exp, err := s.Issue(7, in, b)
	if err != nil {
		t.Fatal(err)
	}
	if !exp.Equal(t0.Add(10 * time.Minute)) {
		t.Errorf("expiresAt = %v", exp)
	}
	if len(tok) >= 400 {
		t.Errorf("token is %d bytes, want < 400", len(tok))
	}
	c.t = exp.Add(-time.Second) // still valid one second before expiry
	got, err := s.Verify(tok, 7, in)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if got.Total != b.Total || got.DistanceMeters != b.DistanceMeters || !got.ExpiresAt.Equal(exp) || got.TenantID != 7 {
		t.Errorf("claims = %+v, breakdown total %d, %d m", got, b.Total, b.DistanceMeters)
	}
	if got.Digest != digest(in) {
		t.Error("claims digest differs from the inputs'")
	}
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(got.ID) {
		t.Errorf("ID %q is not 32 hex digits", got.ID)
	}
	if id, err := TokenID(tok); err != nil || id != got.ID {
		t.Errorf("TokenID = %q, %v; want %q", id, err, got.ID)
	}
	// The order time is not bound: a quote at 10:00 pays for an order at 10:05.
	if _, err := s.Verify(tok, 7, with(in, func(in *Input) { in.At = in.At.Add(5 * time.Minute) })); err != nil {
		t.Errorf("order time must not be bound: %v", err)
	}
	// A point moved by less than half a micro-degree rounds to the same digest.
	if _, err := s.Verify(tok, 7, with(in, func(in *Input) { in.Pickup.Lng += 3e-7 })); err != nil {
		t.Errorf("sub-rounding move must still verify: %v", err)
	}
	tok2, _, _ := s.Issue(7, in, b)
	if id2, _ := TokenID(tok2); tok2 == tok || id2 == got.ID {
		t.Error("two issues of one quote must have different ids")
	}
}

func TestTokenRejects(t *testing.T) {
	t.Parallel()
	c := &fakeClock{t0}
	s := newSigner(t, testKey, c)
	tok, in, _ := issued(t, s)
	body, sig, _ := strings.Cut(tok, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(body)
	enc := base64.RawURLEncoding.EncodeToString

	flip := func(b []byte, i int) []byte {
		out := append([]byte(nil), b...)
		out[i] ^= 0x01
		return out
	}
	rawSig, _ := base64.RawURLEncoding.DecodeString(sig)
	future := append([]byte(nil), raw...)
	future[0] = 2
	futureSig := s.sign(future)
	other := newSigner(t, []byte("another key, also thirty-two bytes!"), c)

	cases := []struct {
		name   string
		token  string
		tenant int64
		in     Input
		now    time.Time
		want   error
	}{
		{name: "empty", token: "", want: ErrQuoteMalformed},
		{name: "no dot", token: body + sig, want: ErrQuoteMalformed},
		{name: "two dots", token: body + "." + sig + ".x", want: ErrQuoteMalformed},
		{name: "only a dot", token: ".", want: ErrQuoteMalformed},
		{name: "bad base64 payload", token: strings.Repeat("!", len(body)) + "." + sig, want: ErrQuoteMalformed},
		{name: "bad base64 signature", token: body + "." + strings.Repeat("*", len(sig)), want: ErrQuoteMalformed},
		{name: "padded", token: body + "=." + sig, want: ErrQuoteMalformed},
		{name: "standard alphabet", token: "+" + body[1:] + "." + sig, want: ErrQuoteMalformed},
		{name: "newline inside", token: body[:10] + "\n" + body[11:] + "." + sig, want: ErrQuoteMalformed},
		{name: "short payload", token: body[:len(body)-4] + "." + sig, want: ErrQuoteMalformed},
		{name: "huge", token: strings.Repeat("A", 1<<20) + "." + sig, want: ErrQuoteMalformed},
		{name: "unknown version, correctly signed", token: enc(future) + "." + enc(futureSig[:]), want: ErrQuoteMalformed},
		{name: "tampered total", token: enc(flip(raw, 41+7)) + "." + sig, want: ErrQuoteTampered},
		{name: "tampered expiry", token: enc(flip(raw, 57+7)) + "." + sig, want: ErrQuoteTampered},
		{name: "tampered signature", token: body + "." + enc(flip(rawSig, 0)), want: ErrQuoteTampered},
		{name: "signature swapped for another key's", token: func() string {
			t, _, _ := issued(t, other)
			_, osig, _ := strings.Cut(t, ".")
			return body + "." + osig
		}(), want: ErrQuoteTampered},
		{name: "other tenant", token: tok, tenant: 8, want: ErrQuoteTampered},
		{name: "expired at exactly the expiry", token: tok, now: t0.Add(10 * time.Minute), want: ErrQuoteExpired},
		{name: "expired long ago", token: tok, now: t0.Add(48 * time.Hour), want: ErrQuoteExpired},
		{name: "task type changed", token: tok, in: with(in, func(in *Input) { in.TaskType = "parcel_pickup" }), want: ErrQuoteMismatch},
		{name: "pickup moved 2e-6°", token: tok, in: with(in, func(in *Input) { in.Pickup.Lng += 2e-6 }), want: ErrQuoteMismatch},
		{name: "dropoff moved 2e-6°", token: tok, in: with(in, func(in *Input) { in.Dropoff.Lat -= 2e-6 }), want: ErrQuoteMismatch},
		{name: "pickup and dropoff swapped", token: tok, in: with(in, func(in *Input) { in.Pickup, in.Dropoff = in.Dropoff, in.Pickup }), want: ErrQuoteMismatch},
		{name: "size changed", token: tok, in: with(in, func(in *Input) { in.Size = "small" }), want: ErrQuoteMismatch},
		{name: "size dropped", token: tok, in: with(in, func(in *Input) { in.Size = "" }), want: ErrQuoteMismatch},
		{name: "minutes changed", token: tok, in: with(in, func(in *Input) { in.Minutes = 6 }), want: ErrQuoteMismatch},
		{name: "tip changed", token: tok, in: with(in, func(in *Input) { in.Tip = 100 }), want: ErrQuoteMismatch},
		{name: "coupon changed", token: tok, in: with(in, func(in *Input) { in.Coupon = 500 }), want: ErrQuoteMismatch},
	}
	all := []error{ErrQuoteMalformed, ErrQuoteTampered, ErrQuoteExpired, ErrQuoteMismatch}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.tenant == 0 {
				tc.tenant = 7
			}
			if tc.in == (Input{}) {
				tc.in = in
			}
			if tc.now.IsZero() {
				tc.now = t0
			}
			v := newSigner(t, testKey, &fakeClock{tc.now})
			_, err := v.Verify(tc.token, tc.tenant, tc.in)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			for _, e := range all {
				if e != tc.want && errors.Is(err, e) {
					t.Errorf("err %v also matches %v", err, e)
				}
			}
		})
	}
}

// Every single-bit change anywhere in the payload must fail the signature.
func TestTokenEveryPayloadByteIsSigned(t *testing.T) {
	t.Parallel()
	s := newSigner(t, testKey, &fakeClock{t0})
	tok, in, _ := issued(t, s)
	body, sig, _ := strings.Cut(tok, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(body)
	for i := range raw {
		for _, bit := range []byte{0x01, 0x80} {
			p := append([]byte(nil), raw...)
			p[i] ^= bit
			forged := base64.RawURLEncoding.EncodeToString(p) + "." + sig
			if _, err := s.Verify(forged, 7, in); !errors.Is(err, ErrQuoteTampered) {
				t.Fatalf("byte %d bit %#x: err = %v, want ErrQuoteTampered", i, bit, err)
			}
		}
	}
}

func TestSignerConfig(t *testing.T) {
	t.Parallel()
	if _, err := NewSigner(testKey[:31], time.Minute, nil); err == nil {
		t.Error("31-byte key accepted")
	}
	for _, ttl := range []time.Duration{0, -time.Minute, time.Millisecond, 25 * time.Hour} {
		if _, err := NewSigner(testKey, ttl, nil); err == nil {
			t.Errorf("ttl %v accepted", ttl)
		}
	}
	key := append([]byte(nil), testKey...)
	s, err := NewSigner(key, time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, in, _ := issued(t, s)
	key[0] ^= 0xff // the signer keeps its own copy
	if _, err := s.Verify(tok, 7, in); err != nil {
		t.Errorf("caller's key change affected the signer: %v", err)
	}
	for _, b := range []Breakdown{
		{Lines: []Line{{Code: LineBase, Amount: 400}}, Total: 500},
		{Lines: []Line{{Code: LineCoupon, Amount: -1}}, Total: -1},
		{Lines: []Line{{Code: LineBase, Amount: 400}}, Total: 400, DistanceMeters: -1},
	} {
		if _, _, err := s.Issue(7, in, b); err == nil {
			t.Errorf("Issue accepted a breakdown that is not a quote: %+v", b)
		}
	}
}

// FuzzVerify: Verify never panics, fails only with its four errors, and accepts nothing but
// the one token Issue produced.
func FuzzVerify(f *testing.F) {
	s := newSigner(f, testKey, &fakeClock{t0})
	tok, in, _ := issued(f, s)
	// Fuzz workers are separate processes, each running this setup; pin the random nonce so
	// every process agrees on the one genuine token.
	p, _, err := decode(tok)
	if err != nil {
		f.Fatal(err)
	}
	clear(p[65:])
	mac := s.sign(p[:])
	tok = base64.RawURLEncoding.EncodeToString(p[:]) + "." + base64.RawURLEncoding.EncodeToString(mac[:])
	if _, err := s.Verify(tok, 7, in); err != nil {
		f.Fatal(err)
	}
	body, sig, _ := strings.Cut(tok, ".")
	for _, seed := range []string{tok, "", ".", body, body + ".", "." + sig, body + "." + sig[:10],
		tok + "=", strings.ToUpper(tok), "a.b", strings.Repeat("A", 108) + "." + strings.Repeat("A", 43)} {
		f.Add(seed)
	}
	all := []error{ErrQuoteMalformed, ErrQuoteTampered, ErrQuoteExpired, ErrQuoteMismatch}
	f.Fuzz(func(t *testing.T, token string) {
		_, _ = TokenID(token)
		c, err := s.Verify(token, 7, in)
		if err == nil {
			if token != tok {
				t.Fatalf("forged token verified: %q (claims %+v)", token, c)
			}
			return
		}
		for _, e := range all {
			if errors.Is(err, e) {
				return
			}
		}
		t.Fatalf("undocumented error %v", err)
	})
}

func BenchmarkIssueVerify(b *testing.B) {
	s := newSigner(b, testKey, &fakeClock{t0})
	in := with(order(2345), func(in *Input) { in.Size = "medium"; in.Tip = 200 })
	q, err := Quote(delivery(), nil, in, shanghai)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		tok, _, err := s.Issue(7, in, q)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Verify(tok, 7, in); err != nil {
			b.Fatal(err)
		}
	}
}
