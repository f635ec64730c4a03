package identity_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/paotui/paotui/internal/config"
	"github.com/paotui/paotui/internal/identity"
	"github.com/paotui/paotui/internal/platform/tenancy"
)

func TestParseAccessToken(t *testing.T) {
	e := newEnv(t)
	a, b := e.tenant(t, "alpha"), e.tenant(t, "beta")
	ctx := context.Background()
	sess, u := e.login(t, e.svc, a, phone(1))

	expired, _ := e.login(t, e.service(t, func(c *config.Auth) { c.AccessTTL = -time.Minute }), a, phone(2))

	otherMaster := make([]byte, 32)
	_, _ = rand.Read(otherMaster)
	foreign, err := identity.NewService(e.db, e.rdb, e.keys, e.sms, testAuth(), otherMaster, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	forged, _ := e.login(t, foreign, a, phone(3))

	if _, err := e.svc.CreateAdmin(ctx, "ops@paotui.example", "platform pass", identity.AdminOwner); err != nil {
		t.Fatal(err)
	}
	platform, _, err := e.svc.LoginAdmin(ctx, "ops@paotui.example", "platform pass", "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}

	parts := strings.Split(sess.AccessToken, ".")
	header, _ := base64.RawURLEncoding.DecodeString(parts[0])
	noneHeader := base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(header), "HS256", "none", 1)))
	// A payload claiming to be another user, under the genuine signature.
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	otherSub := base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), u.ID, "00000000-0000-0000-0000-000000000000", 1)))

	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"other tenant's token", mustLogin(t, e, b, phone(1)), identity.ErrWrongTenant},
		{"expired", expired.AccessToken, identity.ErrTokenExpired},
		{"signed under another master key", forged.AccessToken, identity.ErrTokenInvalid},
		{"tampered payload", parts[0] + "." + otherSub + "." + parts[2], identity.ErrTokenInvalid},
		{"tampered signature", parts[0] + "." + parts[1] + "." + flip(parts[2]), identity.ErrTokenInvalid},
		{"alg none", noneHeader + "." + parts[1] + ".", identity.ErrTokenInvalid},
		{"platform token", platform.AccessToken, identity.ErrTokenInvalid},
		{"refresh token", sess.RefreshToken, identity.ErrTokenInvalid},
		{"empty", "", identity.ErrTokenInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := e.svc.ParseAccessToken(a, tc.token)
			if !errors.Is(err, tc.want) || c != nil {
				t.Fatalf("got %+v, %v; want %v", c, err, tc.want)
			}
		})
	}

	t.Run("valid", func(t *testing.T) {
		c, err := e.svc.ParseAccessToken(a, sess.AccessToken)
		if err != nil {
			t.Fatal(err)
		}
		if c.UserID != u.ID || c.TenantID != a.ID || c.TokenID == "" || c.Imp != "" ||
			c.ExpiresAt.Sub(c.IssuedAt) != testAuth().AccessTTL || !c.ExpiresAt.Equal(sess.ExpiresAt.Truncate(time.Second)) {
			t.Fatalf("claims = %+v (session expires %s)", c, sess.ExpiresAt)
		}
	})

	t.Run("tenant token is no platform token", func(t *testing.T) {
		if _, err := e.svc.ParsePlatformToken(sess.AccessToken); !errors.Is(err, identity.ErrTokenInvalid) {
			t.Fatalf("got %v", err)
		}
	})
}

func mustLogin(t *testing.T, e *env, tn *tenancy.Tenant, p string) string {
	t.Helper()
	s, _ := e.login(t, e.svc, tn, p)
	return s.AccessToken
}

// flip changes the first character of a base64url string to another valid one.
func flip(s string) string {
	c := "A"
	if s[0] == 'A' {
		c = "B"
	}
	return c + s[1:]
}
