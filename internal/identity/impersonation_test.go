package identity_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/httpx"
	"github.com/paotui/paotui/internal/identity"
	"github.com/paotui/paotui/internal/platform/tenancy"
)

// start opens a support session in its own tenant transaction.
func (e *env) start(t *testing.T, s *identity.Service, tn *tenancy.Tenant, adminID, userID string, now, expires time.Time) (*identity.Impersonation, string, error) {
	t.Helper()
	var (
		imp   *identity.Impersonation
		token string
	)
	err := e.db.InTenant(context.Background(), tn, func(tx *gorm.DB) error {
		var err error
		imp, token, err = s.StartImpersonation(tx, tn, adminID, userID, "ticket 42", now, expires)
		return err
	})
	return imp, token, err
}

func TestImpersonationToken(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a, b := e.tenant(t, "alpha"), e.tenant(t, "beta")
	_, owner := e.login(t, e.svc, a, phone(1))
	admin, err := e.svc.CreateAdmin(ctx, "support@paotui.example", "platform pass", identity.AdminSupport)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	imp, token, err := e.start(t, e.svc, a, admin.ID, owner.ID, now, now.Add(10*time.Minute+300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if imp.AdminID != admin.ID || imp.UserID != owner.ID || imp.TenantID != a.ID || imp.EndedAt != nil ||
		!imp.ExpiresAt.Equal(now.Add(10*time.Minute+300*time.Millisecond).Truncate(time.Second)) {
		t.Fatalf("session = %+v", imp)
	}

	t.Run("claims name the admin, the user and the session", func(t *testing.T) {
		c, err := e.svc.VerifyAccess(ctx, a, token)
		if err != nil {
			t.Fatal(err)
		}
		if c.UserID != owner.ID || c.Imp != admin.ID || c.TokenID != imp.ID || c.TenantID != a.ID || !c.ExpiresAt.Equal(imp.ExpiresAt) {
			t.Fatalf("claims = %+v, session %+v", c, imp)
		}
	})
	t.Run("refused elsewhere", func(t *testing.T) {
		if _, err := e.svc.VerifyAccess(ctx, b, token); !errors.Is(err, identity.ErrWrongTenant) {
			t.Fatalf("other tenant: %v", err)
		}
		if _, err := e.svc.ParsePlatformToken(token); !errors.Is(err, identity.ErrTokenInvalid) {
			t.Fatalf("platform: %v", err)
		}
	})
	t.Run("expired", func(t *testing.T) {
		past := time.Now().Add(-time.Hour)
		_, old, err := e.start(t, e.svc, a, admin.ID, owner.ID, past, past.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.ParseAccessToken(a, old); !errors.Is(err, identity.ErrImpersonationExpired) || errors.Is(err, identity.ErrTokenExpired) {
			t.Fatalf("got %v, want only ErrImpersonationExpired", err)
		}
	})
	t.Run("ended", func(t *testing.T) {
		imp2, tok2, err := e.start(t, e.svc, a, admin.ID, owner.ID, time.Now(), time.Now().Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		var ended bool
		err = e.db.Gorm.Transaction(func(tx *gorm.DB) error {
			_, ended, err = e.svc.EndImpersonation(tx, imp2.ID, time.Now())
			return err
		})
		if err != nil || !ended {
			t.Fatalf("end: %v, %v", ended, err)
		}
		// The signature alone still holds: only the session row tells that it ended.
		if _, err := e.svc.ParseAccessToken(a, tok2); err != nil {
			t.Fatalf("parse: %v", err)
		}
		if _, err := e.svc.VerifyAccess(ctx, a, tok2); !errors.Is(err, identity.ErrImpersonationEnded) {
			t.Fatalf("verify ended: %v", err)
		}
		err = e.db.Gorm.Transaction(func(tx *gorm.DB) error {
			_, ended, err = e.svc.EndImpersonation(tx, imp2.ID, time.Now())
			return err
		})
		if err != nil || ended {
			t.Fatalf("second end: %v, %v", ended, err)
		}
		err = e.db.Gorm.Transaction(func(tx *gorm.DB) error {
			_, _, err := e.svc.EndImpersonation(tx, uuid.NewString(), time.Now())
			return err
		})
		if !errors.Is(err, identity.ErrImpersonationNotFound) {
			t.Fatalf("unknown session: %v", err)
		}
	})
	t.Run("unrecorded session", func(t *testing.T) {
		// A token whose session row never committed is refused like an ended one.
		var lost string
		_ = e.db.InTenant(ctx, a, func(tx *gorm.DB) error {
			_, lost, _ = e.svc.StartImpersonation(tx, a, admin.ID, owner.ID, "rolled back", time.Now(), time.Now().Add(time.Minute))
			return errors.New("roll back")
		})
		if _, err := e.svc.VerifyAccess(ctx, a, lost); lost == "" || !errors.Is(err, identity.ErrImpersonationEnded) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("refused users", func(t *testing.T) {
		if _, _, err := e.start(t, e.svc, a, admin.ID, uuid.NewString(), time.Now(), time.Now().Add(time.Minute)); !errors.Is(err, identity.ErrUserNotFound) {
			t.Fatalf("unknown user: %v", err)
		}
		_, student := e.login(t, e.svc, a, phone(2))
		if err := e.db.InTenant(ctx, a, func(tx *gorm.DB) error {
			return tx.Exec(`UPDATE users SET status = 'disabled' WHERE id = ?`, student.ID).Error
		}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.start(t, e.svc, a, admin.ID, student.ID, time.Now(), time.Now().Add(time.Minute)); !errors.Is(err, identity.ErrUserDisabled) {
			t.Fatalf("disabled user: %v", err)
		}
	})
	// Last: it disables the admin.
	t.Run("disabled admin", func(t *testing.T) {
		if err := e.db.Gorm.Exec(`UPDATE public.platform_admins SET disabled_at = now() WHERE id = ?`, admin.ID).Error; err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.VerifyAccess(ctx, a, token); !errors.Is(err, identity.ErrImpersonationEnded) {
			t.Fatalf("open session of a disabled admin: %v", err)
		}
		if _, _, err := e.start(t, e.svc, a, admin.ID, owner.ID, time.Now(), time.Now().Add(time.Minute)); !errors.Is(err, identity.ErrAdminDisabled) {
			t.Fatalf("new session of a disabled admin: %v", err)
		}
	})
}

func TestRecordImpersonatedRequest(t *testing.T) {
	e := newEnv(t)
	a := e.tenant(t, "alpha")
	err := e.svc.RecordImpersonatedRequest(context.Background(), a, identity.ImpersonatedRequest{
		SessionID: "s1", AdminID: "a1", UserID: "u1", Actor: "platform:a1 as user:u1",
		Operation: "update-branding", Method: "PUT", Status: 200, IP: "10.0.0.9",
	})
	if err != nil {
		t.Fatal(err)
	}
	rows := e.auditRows(t, a)
	var meta map[string]any
	if len(rows) == 1 {
		_ = json.Unmarshal(rows[0].Meta, &meta)
	}
	if len(rows) != 1 || rows[0].Actor != "platform:a1 as user:u1" || rows[0].Action != "impersonation.request" ||
		rows[0].Target != "user:u1" || rows[0].IP != "10.0.0.9" || meta["operation"] != "update-branding" ||
		meta["method"] != "PUT" || meta["status"] != 200.0 || meta["impersonationId"] != "s1" {
		t.Fatalf("tenant audit = %+v (meta %v)", rows, meta)
	}
	var platform []struct {
		Actor, Action, Target string
		TenantID              int64
	}
	if err := e.db.Gorm.Raw(`SELECT actor, action, target, tenant_id FROM public.platform_audit_log WHERE action = 'impersonation.request'`).
		Scan(&platform).Error; err != nil {
		t.Fatal(err)
	}
	if len(platform) != 1 || platform[0].Actor != "platform:a1" || platform[0].Target != "user:u1" || platform[0].TenantID != a.ID {
		t.Fatalf("platform audit = %+v", platform)
	}
}

func TestTokenProblem(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status int
		code   string
	}{
		{"expired session", identity.ErrImpersonationExpired, http.StatusUnauthorized, "impersonation_expired"},
		{"ended session", identity.ErrImpersonationEnded, http.StatusUnauthorized, "impersonation_ended"},
		{"session unreadable", errors.New("connection refused"), http.StatusServiceUnavailable, "unavailable"},
		{"invalid token", identity.ErrTokenInvalid, 0, ""},
		{"expired token", identity.ErrTokenExpired, 0, ""},
		{"other tenant", identity.ErrWrongTenant, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := identity.TokenProblem(tc.err)
			var p *httpx.Problem
			if !errors.As(got, &p) {
				if tc.code != "" || !errors.Is(got, tc.err) {
					t.Fatalf("got %v, want problem %s", got, tc.code)
				}
				return
			}
			if p.Status != tc.status || p.Code != tc.code {
				t.Fatalf("got %d %s, want %d %s", p.Status, p.Code, tc.status, tc.code)
			}
		})
	}
}
