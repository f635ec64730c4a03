package identity_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/config"
	"github.com/paotui/paotui/internal/identity"
)

func TestLoginWithCodeCreatesUserOnce(t *testing.T) {
	e := newEnv(t)
	tn := e.tenant(t, "alpha")
	ctx := context.Background()
	const p = "13812345678"

	wait, err := e.svc.SendCode(ctx, tn, "+86 138-1234-5678", "10.0.0.1")
	if err != nil || wait != testAuth().SMSResendInterval {
		t.Fatalf("SendCode = %v, %v", wait, err)
	}
	code := e.sms.LastCode(p)
	if len(code) != 6 {
		t.Fatalf("LastCode = %q, want six digits", code)
	}
	sess, u, created, err := e.svc.LoginWithCode(ctx, tn, p, code, "10.0.0.1")
	if err != nil || !created {
		t.Fatalf("first login: created=%v err=%v", created, err)
	}
	if u.Phone != p || u.Status != identity.StatusActive || u.HasPassword || u.LastLoginAt == nil {
		t.Fatalf("user = %+v", u)
	}
	if sess.TokenType != "Bearer" || sess.AccessToken == "" || sess.RefreshToken == "" || !sess.ExpiresAt.After(time.Now()) {
		t.Fatalf("session = %+v", sess)
	}
	claims, err := e.svc.ParseAccessToken(tn, sess.AccessToken)
	if err != nil || claims.UserID != u.ID || claims.TenantID != tn.ID {
		t.Fatalf("claims = %+v, %v", claims, err)
	}

	// The code is used up.
	if _, _, _, err := e.svc.LoginWithCode(ctx, tn, p, code, "10.0.0.1"); !errors.Is(err, identity.ErrCodeExpired) {
		t.Fatalf("reused code: %v, want ErrCodeExpired", err)
	}

	// Another spelling of the same phone finds the same user.
	if _, err := e.svc.SendCode(ctx, tn, "008613812345678", "10.0.0.1"); err != nil {
		t.Fatal(err)
	}
	_, u2, created, err := e.svc.LoginWithCode(ctx, tn, "8613812345678", e.sms.LastCode(p), "10.0.0.1")
	if err != nil || created || u2.ID != u.ID {
		t.Fatalf("second login: user %v (first %v) created=%v err=%v", u2, u.ID, created, err)
	}

	got, err := e.svc.User(ctx, tn, u.ID)
	if err != nil || got.Phone != p || got.ID != u.ID {
		t.Fatalf("User = %+v, %v", got, err)
	}
	if _, err := e.svc.User(ctx, tn, "not-a-uuid"); !errors.Is(err, identity.ErrUserNotFound) {
		t.Fatalf("User(bad id) = %v", err)
	}

	// The phone is another tenant's stranger: tenant data does not leak across schemas.
	other := e.tenant(t, "beta")
	if _, err := e.svc.User(ctx, other, u.ID); !errors.Is(err, identity.ErrUserNotFound) {
		t.Fatalf("User in other tenant = %v", err)
	}
	_, u3, created, err := func() (*identity.Session, *identity.User, bool, error) {
		if _, err := e.svc.SendCode(ctx, other, p, "10.0.0.1"); err != nil {
			return nil, nil, false, err
		}
		return e.svc.LoginWithCode(ctx, other, p, e.sms.LastCode(p), "10.0.0.1")
	}()
	if err != nil || !created || u3.ID == u.ID {
		t.Fatalf("login in other tenant: %v created=%v err=%v", u3, created, err)
	}
}

func TestLoginWithCodeErrors(t *testing.T) {
	e := newEnv(t)
	tn := e.tenant(t, "alpha")
	ctx := context.Background()
	short := e.service(t, func(c *config.Auth) { c.SMSCodeTTL = 150 * time.Millisecond })

	tests := []struct {
		name string
		svc  *identity.Service
		// run gets the phone and its fresh code and returns the error of the decisive login.
		run  func(t *testing.T, s *identity.Service, p, code string) error
		want error
	}{
		{"invalid phone", e.svc, func(t *testing.T, s *identity.Service, p, code string) error {
			_, _, _, err := s.LoginWithCode(ctx, tn, "12345", code, "10.0.0.1")
			return err
		}, identity.ErrInvalidPhone},
		{"wrong code", e.svc, func(t *testing.T, s *identity.Service, p, code string) error {
			_, _, _, err := s.LoginWithCode(ctx, tn, p, wrong(code), "10.0.0.1")
			return err
		}, identity.ErrCodeInvalid},
		{"burnt after attempts, even the right code", e.svc, func(t *testing.T, s *identity.Service, p, code string) error {
			for i := 1; i <= testAuth().SMSCodeAttempts; i++ {
				_, _, _, err := s.LoginWithCode(ctx, tn, p, wrong(code), "10.0.0.1")
				want := identity.ErrCodeInvalid
				if i == testAuth().SMSCodeAttempts {
					want = identity.ErrCodeBurnt
				}
				if !errors.Is(err, want) {
					t.Fatalf("wrong try %d: %v, want %v", i, err, want)
				}
			}
			_, _, _, err := s.LoginWithCode(ctx, tn, p, code, "10.0.0.1")
			return err
		}, identity.ErrCodeBurnt},
		{"expired", short, func(t *testing.T, s *identity.Service, p, code string) error {
			time.Sleep(200 * time.Millisecond)
			_, _, _, err := s.LoginWithCode(ctx, tn, p, code, "10.0.0.1")
			return err
		}, identity.ErrCodeExpired},
		{"never sent", e.svc, func(t *testing.T, s *identity.Service, p, code string) error {
			_, _, _, err := s.LoginWithCode(ctx, tn, phone(999), code, "10.0.0.1")
			return err
		}, identity.ErrCodeExpired},
		{"replaced by a newer code", e.svc, func(t *testing.T, s *identity.Service, p, code string) error {
			time.Sleep(2 * time.Millisecond) // the 1ms resend gap
			if _, err := s.SendCode(ctx, tn, p, "10.0.0.1"); err != nil {
				t.Fatal(err)
			}
			if fresh := e.sms.LastCode(p); fresh == code {
				t.Skip("the new code happens to equal the old one")
			}
			_, _, _, err := s.LoginWithCode(ctx, tn, p, code, "10.0.0.1")
			return err
		}, identity.ErrCodeInvalid},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := phone(i)
			if _, err := tc.svc.SendCode(ctx, tn, p, "10.0.0.1"); err != nil {
				t.Fatal(err)
			}
			if err := tc.run(t, tc.svc, p, e.sms.LastCode(p)); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}

	// A burnt code is replaced by sending a new one.
	p := phone(2)
	if _, err := e.svc.SendCode(ctx, tn, p, "10.0.0.1"); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := e.svc.LoginWithCode(ctx, tn, p, e.sms.LastCode(p), "10.0.0.1"); err != nil {
		t.Fatalf("login with a new code after burning: %v", err)
	}
}

// wrong returns a six-digit code other than code.
func wrong(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

func TestSendCodeLimits(t *testing.T) {
	e := newEnv(t)
	tn := e.tenant(t, "alpha")
	ctx := context.Background()

	tests := []struct {
		name    string
		tweak   func(*config.Auth)
		sends   []struct{ phone, ip string } // all but the last must pass
		limit   identity.Limit
		maxWait time.Duration
	}{
		{
			name:    "resend too soon",
			tweak:   func(c *config.Auth) { c.SMSResendInterval = time.Minute },
			sends:   []struct{ phone, ip string }{{phone(1), "10.0.0.1"}, {phone(1), "10.0.0.2"}},
			limit:   identity.LimitResend,
			maxWait: time.Minute,
		},
		{
			name:  "per ip per hour",
			tweak: func(c *config.Auth) { c.SMSPerIPPerHour = 2 },
			sends: []struct{ phone, ip string }{
				{phone(2), "10.0.0.3"}, {phone(3), "10.0.0.3"}, {phone(4), "10.0.0.3"},
			},
			limit:   identity.LimitIPHourly,
			maxWait: time.Hour,
		},
		{
			name:  "per ipv6 /64 per hour",
			tweak: func(c *config.Auth) { c.SMSPerIPPerHour = 1 },
			sends: []struct{ phone, ip string }{
				{phone(5), "2001:db8:1:2::1"}, {phone(6), "2001:db8:1:2:ffff::9"},
			},
			limit:   identity.LimitIPHourly,
			maxWait: time.Hour,
		},
		{
			name:  "per phone per hour",
			tweak: func(c *config.Auth) { c.SMSPerPhonePerHour = 2 },
			sends: []struct{ phone, ip string }{
				{phone(7), "10.0.0.4"}, {phone(7), "10.0.0.5"}, {phone(7), "10.0.0.6"},
			},
			limit:   identity.LimitPhoneHourly,
			maxWait: time.Hour,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := e.service(t, tc.tweak)
			var err error
			for i, snd := range tc.sends {
				_, err = s.SendCode(ctx, tn, snd.phone, snd.ip)
				if i < len(tc.sends)-1 && err != nil {
					t.Fatalf("send %d: %v", i, err)
				}
				time.Sleep(2 * time.Millisecond) // let the 1ms resend gap pass
			}
			var rl *identity.RateLimitError
			if !errors.As(err, &rl) || !errors.Is(err, identity.ErrTooManyRequests) {
				t.Fatalf("last send: %v, want *RateLimitError", err)
			}
			if rl.Limit != tc.limit || rl.RetryAfter <= 0 || rl.RetryAfter > tc.maxWait {
				t.Fatalf("refused by %s, retry after %s; want %s within %s", rl.Limit, rl.RetryAfter, tc.limit, tc.maxWait)
			}
		})
	}

	t.Run("refusal by a cap does not start the resend gap", func(t *testing.T) {
		s := e.service(t, func(c *config.Auth) { c.SMSPerIPPerHour = 1; c.SMSResendInterval = time.Minute })
		if _, err := s.SendCode(ctx, tn, phone(8), "10.0.0.7"); err != nil {
			t.Fatal(err)
		}
		var rl *identity.RateLimitError
		if _, err := s.SendCode(ctx, tn, phone(9), "10.0.0.7"); !errors.As(err, &rl) || rl.Limit != identity.LimitIPHourly {
			t.Fatalf("second address-capped send: %v", err)
		}
		if _, err := s.SendCode(ctx, tn, phone(9), "10.0.0.8"); err != nil {
			t.Fatalf("same phone from another address: %v", err)
		}
	})

	t.Run("invalid phone", func(t *testing.T) {
		if _, err := e.svc.SendCode(ctx, tn, "010-12345678", "10.0.0.1"); !errors.Is(err, identity.ErrInvalidPhone) {
			t.Fatalf("got %v", err)
		}
	})
}

func TestLoginFailuresLockOut(t *testing.T) {
	e := newEnv(t)
	tn := e.tenant(t, "alpha")
	ctx := context.Background()
	const limit = 3
	s := e.service(t, func(c *config.Auth) { c.LoginFailuresPer15m = limit; c.SMSCodeAttempts = 100 })
	staff := phone(1)
	_, u := e.login(t, s, tn, staff)
	if err := s.SetPassword(ctx, tn, u.ID, "correct horse"); err != nil {
		t.Fatal(err)
	}

	assertLocked := func(t *testing.T, err error) {
		t.Helper()
		var rl *identity.RateLimitError
		if !errors.As(err, &rl) || rl.Limit != identity.LimitLoginLocked || rl.RetryAfter <= 0 || rl.RetryAfter > 15*time.Minute {
			t.Fatalf("got %v, want a login lock", err)
		}
	}

	t.Run("per phone, across addresses and methods", func(t *testing.T) {
		for i := range limit {
			ip := fmt.Sprintf("10.1.0.%d", i+1)
			if _, _, err := s.LoginWithPassword(ctx, tn, staff, "wrong password", ip); !errors.Is(err, identity.ErrBadCredentials) {
				t.Fatalf("try %d: %v", i, err)
			}
		}
		_, _, err := s.LoginWithPassword(ctx, tn, staff, "correct horse", "10.1.0.9")
		assertLocked(t, err)
		_, _, _, err = s.LoginWithCode(ctx, tn, staff, "123456", "10.1.0.9")
		assertLocked(t, err)
	})

	t.Run("per address, across phones", func(t *testing.T) {
		for i := range limit {
			p := phone(100 + i)
			if _, err := s.SendCode(ctx, tn, p, "10.2.0.1"); err != nil {
				t.Fatal(err)
			}
			if _, _, _, err := s.LoginWithCode(ctx, tn, p, wrong(e.sms.LastCode(p)), "10.2.0.1"); !errors.Is(err, identity.ErrCodeInvalid) {
				t.Fatalf("try %d: %v", i, err)
			}
		}
		p := phone(200)
		if _, err := s.SendCode(ctx, tn, p, "10.2.0.1"); err != nil {
			t.Fatal(err)
		}
		_, _, _, err := s.LoginWithCode(ctx, tn, p, e.sms.LastCode(p), "10.2.0.1")
		assertLocked(t, err)
		// The same right code from another address still works: the lock is on the address.
		if _, _, _, err := s.LoginWithCode(ctx, tn, p, e.sms.LastCode(p), "10.2.0.2"); err != nil {
			t.Fatalf("other address: %v", err)
		}
	})

	t.Run("a success clears the phone's count", func(t *testing.T) {
		p := phone(300)
		for round := range 2 {
			for i := range limit - 1 {
				if _, _, _, err := s.LoginWithCode(ctx, tn, p, "000000", fmt.Sprintf("10.3.%d.%d", round, i)); err == nil {
					t.Fatal("login without a code")
				}
			}
			e.login(t, s, tn, p)
		}
	})
}

func TestRefreshRotationAndReuse(t *testing.T) {
	e := newEnv(t)
	tn := e.tenant(t, "alpha")
	ctx := context.Background()

	t.Run("rotation and reuse revokes the family", func(t *testing.T) {
		s1, _ := e.login(t, e.svc, tn, phone(1))
		s2, err := e.svc.Refresh(ctx, tn, s1.RefreshToken, "10.0.0.1")
		if err != nil || s2.RefreshToken == s1.RefreshToken || s2.AccessToken == "" {
			t.Fatalf("refresh: %+v, %v", s2, err)
		}
		s3, err := e.svc.Refresh(ctx, tn, s2.RefreshToken, "10.0.0.1")
		if err != nil {
			t.Fatalf("second refresh: %v", err)
		}
		// s1's token comes back: stolen copy. The whole family dies, s3's newest token too.
		if _, err := e.svc.Refresh(ctx, tn, s1.RefreshToken, "10.9.9.9"); !errors.Is(err, identity.ErrRefreshReused) {
			t.Fatalf("reuse: %v, want ErrRefreshReused", err)
		}
		if _, err := e.svc.Refresh(ctx, tn, s3.RefreshToken, "10.0.0.1"); !errors.Is(err, identity.ErrRefreshInvalid) {
			t.Fatalf("newest token after reuse: %v, want ErrRefreshInvalid", err)
		}
		rows := e.auditRows(t, tn)
		if rows[0].Action != "auth.refresh_reused" || rows[0].IP != "10.9.9.9" {
			t.Fatalf("last audit entry = %+v", rows[0])
		}
	})

	t.Run("other sessions of the user survive", func(t *testing.T) {
		a, _ := e.login(t, e.svc, tn, phone(2))
		b, _ := e.login(t, e.svc, tn, phone(2))
		if _, err := e.svc.Refresh(ctx, tn, a.RefreshToken, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Refresh(ctx, tn, a.RefreshToken, ""); !errors.Is(err, identity.ErrRefreshReused) {
			t.Fatal(err)
		}
		if _, err := e.svc.Refresh(ctx, tn, b.RefreshToken, ""); err != nil {
			t.Fatalf("other device: %v", err)
		}
	})

	t.Run("logout", func(t *testing.T) {
		s1, _ := e.login(t, e.svc, tn, phone(3))
		s2, err := e.svc.Refresh(ctx, tn, s1.RefreshToken, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Logout(ctx, tn, s2.RefreshToken); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Logout(ctx, tn, s2.RefreshToken); err != nil {
			t.Fatalf("second logout: %v", err)
		}
		if _, err := e.svc.Refresh(ctx, tn, s2.RefreshToken, ""); !errors.Is(err, identity.ErrRefreshInvalid) {
			t.Fatalf("refresh after logout: %v", err)
		}
		if err := e.svc.Logout(ctx, tn, "bm90IGEgdG9rZW4"); !errors.Is(err, identity.ErrRefreshInvalid) {
			t.Fatalf("logout unknown: %v", err)
		}
	})

	t.Run("expired", func(t *testing.T) {
		stale := e.service(t, func(c *config.Auth) { c.RefreshTTL = -time.Minute })
		s1, _ := e.login(t, stale, tn, phone(4))
		if _, err := e.svc.Refresh(ctx, tn, s1.RefreshToken, ""); !errors.Is(err, identity.ErrRefreshInvalid) {
			t.Fatalf("got %v", err)
		}
	})

	t.Run("other tenant's token", func(t *testing.T) {
		s1, _ := e.login(t, e.svc, tn, phone(5))
		other := e.tenant(t, "beta")
		if _, err := e.svc.Refresh(ctx, other, s1.RefreshToken, ""); !errors.Is(err, identity.ErrRefreshInvalid) {
			t.Fatalf("got %v", err)
		}
	})

	t.Run("disabled user", func(t *testing.T) {
		s1, u := e.login(t, e.svc, tn, phone(6))
		s2, _ := e.login(t, e.svc, tn, phone(6))
		if err := e.svc.SetStatus(ctx, tn, u.ID, identity.StatusDisabled); err != nil {
			t.Fatal(err)
		}
		for _, tok := range []string{s1.RefreshToken, s2.RefreshToken} {
			if _, err := e.svc.Refresh(ctx, tn, tok, ""); !errors.Is(err, identity.ErrRefreshInvalid) {
				t.Fatalf("refresh of a disabled user: %v, want ErrRefreshInvalid (revoked)", err)
			}
		}
	})
}

func TestDisabledUserCannotLogIn(t *testing.T) {
	e := newEnv(t)
	tn := e.tenant(t, "alpha")
	ctx := context.Background()
	p := phone(1)
	_, u := e.login(t, e.svc, tn, p)
	if err := e.svc.SetPassword(ctx, tn, u.ID, "long enough"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SetStatus(ctx, tn, u.ID, identity.StatusDisabled); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SendCode(ctx, tn, p, "10.0.0.1"); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := e.svc.LoginWithCode(ctx, tn, p, e.sms.LastCode(p), "10.0.0.1"); !errors.Is(err, identity.ErrUserDisabled) {
		t.Fatalf("code login: %v", err)
	}
	if _, _, err := e.svc.LoginWithPassword(ctx, tn, p, "long enough", "10.0.0.1"); !errors.Is(err, identity.ErrUserDisabled) {
		t.Fatalf("password login: %v", err)
	}
	// Without the password a disabled account looks like any failure.
	if _, _, err := e.svc.LoginWithPassword(ctx, tn, p, "not the password", "10.0.0.1"); !errors.Is(err, identity.ErrBadCredentials) {
		t.Fatalf("wrong password: %v", err)
	}
	if got, _ := e.svc.User(ctx, tn, u.ID); got.Status != identity.StatusDisabled {
		t.Fatalf("status = %s", got.Status)
	}
	if err := e.svc.SetStatus(ctx, tn, u.ID, identity.StatusActive); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.LoginWithPassword(ctx, tn, p, "long enough", "10.0.0.1"); err != nil {
		t.Fatalf("after enabling: %v", err)
	}
}

func TestPasswordLogin(t *testing.T) {
	e := newEnv(t)
	tn := e.tenant(t, "alpha")
	ctx := context.Background()
	staff, student := phone(1), phone(2)
	_, su := e.login(t, e.svc, tn, staff)
	e.login(t, e.svc, tn, student)
	if err := e.svc.SetPassword(ctx, tn, su.ID, "短"); !errors.Is(err, identity.ErrPasswordTooShort) {
		t.Fatalf("short password: %v", err)
	}
	if err := e.svc.SetPassword(ctx, tn, su.ID, "密码是八个字符"+"!"); err != nil {
		t.Fatal(err)
	}
	const pw = "密码是八个字符!"
	if err := e.svc.SetPassword(ctx, tn, "00000000-0000-0000-0000-000000000000", pw); !errors.Is(err, identity.ErrUserNotFound) {
		t.Fatalf("unknown user: %v", err)
	}

	tests := []struct {
		name, phone, password string
		want                  error
	}{
		{"ok", staff, pw, nil},
		{"ok with other spelling", "+86 " + staff, pw, nil},
		{"wrong password", staff, "密码是八个字符?", identity.ErrBadCredentials},
		{"no password set", student, pw, identity.ErrBadCredentials},
		{"unknown phone", phone(3), pw, identity.ErrBadCredentials},
		{"empty password", staff, "", identity.ErrBadCredentials},
		{"invalid phone", "110", pw, identity.ErrInvalidPhone},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sess, u, err := e.svc.LoginWithPassword(ctx, tn, tc.phone, tc.password, "10.0.0.1")
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if tc.want != nil {
				return
			}
			if u.ID != su.ID || !u.HasPassword {
				t.Fatalf("user = %+v", u)
			}
			if c, err := e.svc.ParseAccessToken(tn, sess.AccessToken); err != nil || c.UserID != su.ID {
				t.Fatalf("token: %+v %v", c, err)
			}
		})
	}
}

func TestPersonalDataStaysEncrypted(t *testing.T) {
	e := newEnv(t)
	tn := e.tenant(t, "alpha")
	ctx := context.Background()
	const p, name = "13712345678", "张三丰"

	// A failed login of a stranger, then the person's first login, then a name.
	if _, _, err := e.svc.LoginWithPassword(ctx, tn, p, "whatever1", "10.0.0.1"); !errors.Is(err, identity.ErrBadCredentials) {
		t.Fatal(err)
	}
	_, u := e.login(t, e.svc, tn, p)
	if err := e.svc.SetName(ctx, tn, u.ID, "  "+name+" "); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SetName(ctx, tn, u.ID, "bad\x00name"); !errors.Is(err, identity.ErrInvalidName) {
		t.Fatalf("control character: %v", err)
	}
	if got, err := e.svc.User(ctx, tn, u.ID); err != nil || got.Name != name || got.Phone != p {
		t.Fatalf("User = %+v, %v", got, err)
	}

	var phoneEnc, nameEnc []byte
	var dump []string
	err := e.db.InTenant(ctx, tn, func(tx *gorm.DB) error {
		if err := tx.Raw(`SELECT phone_enc, name_enc FROM users WHERE id = ?`, u.ID).Row().Scan(&phoneEnc, &nameEnc); err != nil {
			return err
		}
		return tx.Raw(`SELECT t::text FROM users t UNION ALL SELECT t::text FROM refresh_tokens t UNION ALL SELECT t::text FROM audit_log t`).Scan(&dump).Error
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{p, p[3:7] + p[7:], name} {
		if bytes.Contains(phoneEnc, []byte(secret)) || bytes.Contains(nameEnc, []byte(secret)) {
			t.Fatalf("ciphertext contains %q", secret)
		}
		for _, row := range dump {
			if strings.Contains(row, secret) {
				t.Fatalf("tenant schema holds %q in clear: %s", secret, row)
			}
		}
	}
	keys, err := e.rdb.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if strings.Contains(k, p) {
			t.Fatalf("redis key %q holds the phone", k)
		}
		if !strings.HasPrefix(k, "paotui:t:") {
			t.Fatalf("redis key %q outside the tenant prefix", k)
		}
	}
}

func TestLoginsAreAudited(t *testing.T) {
	e := newEnv(t)
	tn := e.tenant(t, "alpha")
	ctx := context.Background()
	known, stranger := phone(1), phone(2)

	_, u := e.login(t, e.svc, tn, known)
	if _, err := e.svc.SendCode(ctx, tn, known, "10.0.0.2"); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := e.svc.LoginWithCode(ctx, tn, known, wrong(e.sms.LastCode(known)), "10.0.0.2"); !errors.Is(err, identity.ErrCodeInvalid) {
		t.Fatal(err)
	}
	if _, _, _, err := e.svc.LoginWithCode(ctx, tn, stranger, "123456", "10.0.0.3"); !errors.Is(err, identity.ErrCodeExpired) {
		t.Fatal(err)
	}
	if _, _, err := e.svc.LoginWithPassword(ctx, tn, known, "no password", "10.0.0.4"); !errors.Is(err, identity.ErrBadCredentials) {
		t.Fatal(err)
	}

	rows := e.auditRows(t, tn)
	type entry struct{ actor, action, target, ip, reason string }
	var got []entry
	for i := len(rows) - 1; i >= 0; i-- {
		r := rows[i]
		if strings.Contains(string(r.Meta)+r.Target+r.Actor, known) || strings.Contains(string(r.Meta)+r.Target, stranger) {
			t.Fatalf("audit row holds a phone: %+v", r)
		}
		var meta struct{ Reason string }
		if err := json.Unmarshal(r.Meta, &meta); err != nil {
			t.Fatal(err)
		}
		target := r.Target
		if strings.HasPrefix(target, "phone_bidx:") {
			// The stranger is named by a prefix of the blind index their row would carry.
			c, err := e.keys.For(ctx, tn.ID)
			if err != nil {
				t.Fatal(err)
			}
			if want := hex.EncodeToString(c.BlindIndex("users.phone", stranger)); !strings.HasPrefix(want, target[len("phone_bidx:"):]) || len(target) < 40 {
				t.Fatalf("target %q is not a prefix of the stranger's blind index %s", target, want)
			}
			target = "phone_bidx:"
		}
		got = append(got, entry{r.Actor, r.Action, target, r.IP, meta.Reason})
	}
	who := "user:" + u.ID
	want := []entry{
		{who, "auth.login", who, "10.0.0.1", ""},
		{"anonymous", "auth.login_failed", who, "10.0.0.2", "code_invalid"},
		{"anonymous", "auth.login_failed", "phone_bidx:", "10.0.0.3", "code_expired"},
		{"anonymous", "auth.login_failed", who, "10.0.0.4", "no_password"},
	}
	if len(got) != len(want) {
		t.Fatalf("audit = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("audit[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestFindOrCreateUserInCallerTransaction(t *testing.T) {
	e := newEnv(t)
	tn := e.tenant(t, "alpha")
	ctx := context.Background()
	p := phone(1)

	// Rolled back with the caller's transaction.
	boom := errors.New("provisioning failed later")
	err := e.db.InTenant(ctx, tn, func(tx *gorm.DB) error {
		if _, created, err := e.svc.FindOrCreateUser(ctx, tx, tn, p, "Owner"); err != nil || !created {
			t.Fatalf("create: %v %v", created, err)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}

	// Racing creators of one phone end up with one user.
	const n = 8
	ids := make([]string, n)
	createdCount := 0
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			err := e.db.InTenant(ctx, tn, func(tx *gorm.DB) error {
				u, created, err := e.svc.FindOrCreateUser(ctx, tx, tn, p, "Owner")
				if err != nil {
					return err
				}
				mu.Lock()
				defer mu.Unlock()
				ids[i] = u.ID
				if created {
					createdCount++
				}
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if createdCount != 1 {
		t.Fatalf("%d creators claim to have created the user", createdCount)
	}
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("ids differ: %v", ids)
		}
	}
	u, err := e.svc.User(ctx, tn, ids[0])
	if err != nil || u.Name != "Owner" || u.Phone != p {
		t.Fatalf("User = %+v, %v", u, err)
	}
}
