package identity_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/paotui/paotui/internal/audit"
	"github.com/paotui/paotui/internal/config"
	"github.com/paotui/paotui/internal/identity"
)

func TestCreateAdmin(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a, err := e.svc.CreateAdmin(ctx, " Ops@Paotui.Example ", "platform pass", identity.AdminOwner)
	if err != nil || a.Email != "ops@paotui.example" || a.Role != identity.AdminOwner || a.ID == "" {
		t.Fatalf("CreateAdmin = %+v, %v", a, err)
	}
	tests := []struct {
		name, email, password string
		role                  identity.AdminRole
		want                  error
	}{
		{"same email", "ops@paotui.example", "other password", identity.AdminSupport, identity.ErrAdminExists},
		{"same email other case", "OPS@paotui.example", "other password", identity.AdminSupport, identity.ErrAdminExists},
		{"bad email", "ops", "platform pass", identity.AdminOwner, identity.ErrInvalidEmail},
		{"display name", "Ops <ops2@paotui.example>", "platform pass", identity.AdminOwner, identity.ErrInvalidEmail},
		{"bad role", "finance@paotui.example", "platform pass", "root", identity.ErrInvalidRole},
		{"short password", "finance@paotui.example", "short", identity.AdminFinance, identity.ErrPasswordTooShort},
		{"another admin", "finance@paotui.example", "platform pass", identity.AdminFinance, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := e.svc.CreateAdmin(ctx, tc.email, tc.password, tc.role); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	got, err := e.svc.Admin(ctx, a.ID)
	if err != nil || got.Email != a.Email {
		t.Fatalf("Admin = %+v, %v", got, err)
	}
}

func TestAdminLoginAndRefresh(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a, err := e.svc.CreateAdmin(ctx, "support@paotui.example", "platform pass", identity.AdminSupport)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("credentials", func(t *testing.T) {
		tests := []struct {
			name, email, password string
			want                  error
		}{
			{"ok", "support@paotui.example", "platform pass", nil},
			{"email case", "SUPPORT@paotui.example", "platform pass", nil},
			{"wrong password", "support@paotui.example", "platform pas", identity.ErrBadCredentials},
			{"unknown email", "nobody@paotui.example", "platform pass", identity.ErrBadCredentials},
			{"not an email", "nobody", "platform pass", identity.ErrBadCredentials},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				sess, got, err := e.svc.LoginAdmin(ctx, tc.email, tc.password, "10.0.0.1")
				if !errors.Is(err, tc.want) {
					t.Fatalf("got %v, want %v", err, tc.want)
				}
				if err != nil {
					return
				}
				c, err := e.svc.ParsePlatformToken(sess.AccessToken)
				if err != nil || c.AdminID != a.ID || c.Role != identity.AdminSupport || got.LastLoginAt == nil {
					t.Fatalf("claims %+v, admin %+v, err %v", c, got, err)
				}
			})
		}
	})

	t.Run("refresh rotation, reuse and logout", func(t *testing.T) {
		s1, _, err := e.svc.LoginAdmin(ctx, "support@paotui.example", "platform pass", "10.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		s2, err := e.svc.RefreshAdmin(ctx, s1.RefreshToken, "10.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		if c, err := e.svc.ParsePlatformToken(s2.AccessToken); err != nil || c.AdminID != a.ID {
			t.Fatalf("refreshed claims %+v, %v", c, err)
		}
		if _, err := e.svc.RefreshAdmin(ctx, s1.RefreshToken, "10.6.6.6"); !errors.Is(err, identity.ErrRefreshReused) {
			t.Fatalf("reuse: %v", err)
		}
		if _, err := e.svc.RefreshAdmin(ctx, s2.RefreshToken, "10.0.0.1"); !errors.Is(err, identity.ErrRefreshInvalid) {
			t.Fatalf("newest after reuse: %v", err)
		}

		s3, _, err := e.svc.LoginAdmin(ctx, "support@paotui.example", "platform pass", "10.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		if err := e.svc.LogoutAdmin(ctx, s3.RefreshToken); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.RefreshAdmin(ctx, s3.RefreshToken, "10.0.0.1"); !errors.Is(err, identity.ErrRefreshInvalid) {
			t.Fatalf("after logout: %v", err)
		}
	})

	t.Run("disabled admin", func(t *testing.T) {
		s1, _, err := e.svc.LoginAdmin(ctx, "support@paotui.example", "platform pass", "10.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		if err := e.db.Gorm.Exec(`UPDATE public.platform_admins SET disabled_at = now() WHERE id = ?`, a.ID).Error; err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.db.Gorm.Exec(`UPDATE public.platform_admins SET disabled_at = NULL WHERE id = ?`, a.ID) })
		if _, _, err := e.svc.LoginAdmin(ctx, "support@paotui.example", "platform pass", "10.0.0.1"); !errors.Is(err, identity.ErrUserDisabled) {
			t.Fatalf("login: %v", err)
		}
		if _, err := e.svc.RefreshAdmin(ctx, s1.RefreshToken, "10.0.0.1"); !errors.Is(err, identity.ErrUserDisabled) {
			t.Fatalf("refresh: %v", err)
		}
	})

	t.Run("lockout", func(t *testing.T) {
		s := e.service(t, func(c *config.Auth) { c.LoginFailuresPer15m = 2 })
		if _, err := s.CreateAdmin(ctx, "finance@paotui.example", "platform pass", identity.AdminFinance); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if _, _, err := s.LoginAdmin(ctx, "finance@paotui.example", "guess guess", "10.5.0.1"); !errors.Is(err, identity.ErrBadCredentials) {
				t.Fatal(err)
			}
		}
		var rl *identity.RateLimitError
		if _, _, err := s.LoginAdmin(ctx, "finance@paotui.example", "platform pass", "10.5.0.2"); !errors.As(err, &rl) || rl.Limit != identity.LimitLoginLocked {
			t.Fatalf("got %v, want a login lock", err)
		}
	})

	t.Run("audited", func(t *testing.T) {
		var rows []audit.Row
		if err := e.db.Gorm.Table("public.platform_audit_log").Order("id").Find(&rows).Error; err != nil {
			t.Fatal(err)
		}
		var ok, failed, reused int
		for _, r := range rows {
			if strings.Contains(r.Target+string(r.Meta), "@") {
				t.Fatalf("platform audit row holds an email: %+v", r)
			}
			switch r.Action {
			case "auth.login":
				ok++
				if r.Actor != "platform:"+a.ID || r.Target != "admin:"+a.ID {
					t.Fatalf("login row %+v", r)
				}
			case "auth.login_failed":
				failed++
			case "auth.refresh_reused":
				reused++
			}
		}
		if ok < 4 || failed < 4 || reused != 1 {
			t.Fatalf("platform audit: %d logins, %d failures, %d reuses", ok, failed, reused)
		}
	})
}
