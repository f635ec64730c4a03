package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/paotui/paotui/internal/app/apptest"
	"github.com/paotui/paotui/internal/platform/provision"
	"github.com/paotui/paotui/internal/platform/tenancy"
)

type impersonation struct {
	ImpersonationID string    `json:"impersonationId"`
	Token           string    `json:"token"`
	ExpiresAt       time.Time `json:"expiresAt"`
	UserID          string    `json:"userId"`
	TenantHost      string    `json:"tenantHost"`
	AdminURL        string    `json:"adminUrl"`
}

type auditEntry struct {
	Actor  string         `json:"actor"`
	Action string         `json:"action"`
	Target string         `json:"target"`
	Meta   map[string]any `json:"meta"`
}

// A support admin acts as a tenant's owner for a limited time: the session works like the
// owner's own, says so on every response, is audited under both identities in both logs, and
// stops at its expiry, when ended, or when its admin is disabled.
func TestImpersonation(t *testing.T) {
	env := apptest.New(t, "PAOTUI_AUTH_IMPERSONATION_TTL=10m")
	ctx := context.Background()
	ta := env.Tenant("imp-a", "13800000061")
	env.Tenant("imp-b", "13800000062")
	owner := env.Login("imp-a", "13800000061")
	student := env.Login("imp-a", "13800000063")
	support := env.PlatformLogin("support@paotui.test", "support-password", "support")
	finance := env.PlatformLogin("finance@paotui.test", "finance-password", "finance")
	supportID := platformAdminID(t, env, support)
	plat, hostA := env.PlatformHost(), env.Host("imp-a")
	startPath := fmt.Sprintf("/api/v1/platform/tenants/%d/impersonate", ta.ID)

	open := func(t *testing.T, token, path string, body map[string]any) *impersonation {
		t.Helper()
		r := env.Do(plat, "POST", path, token, body)
		if r.Status != http.StatusCreated {
			t.Fatalf("impersonate: %d %s", r.Status, r.Body)
		}
		var s impersonation
		r.JSON(t, &s)
		return &s
	}
	// Opened first and checked last, so the wait for its expiry overlaps the rest.
	opened := time.Now()
	short := open(t, support, startPath, map[string]any{"reason": "expiry check", "expiresInSeconds": 1})
	if !short.ExpiresAt.After(opened.Add(-time.Second)) || short.ExpiresAt.After(opened.Add(time.Second)) {
		t.Fatalf("1 s session expires at %s, opened %s", short.ExpiresAt, opened)
	}

	t.Run("refusals", func(t *testing.T) {
		tests := []struct {
			name   string
			token  string
			path   string
			body   map[string]any
			status int
			code   string
		}{
			{"finance admin", finance, startPath, map[string]any{"reason": "curious"}, 403, "permission_denied"},
			{"no reason", support, startPath, map[string]any{"reason": ""}, 422, "validation_failed"},
			{"blank reason", support, startPath, map[string]any{"reason": "   "}, 422, "reason_required"},
			{"longer than the ttl", support, startPath, map[string]any{"reason": "r", "expiresInSeconds": 601}, 422, "impersonation_ttl_out_of_range"},
			{"a student", support, startPath, map[string]any{"reason": "r", "userId": student.User.ID}, 422, "impersonation_user_not_staff"},
			{"unknown tenant", support, "/api/v1/platform/tenants/999999/impersonate", map[string]any{"reason": "r"}, 404, "tenant_not_found"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				r := env.Do(plat, "POST", tc.path, tc.token, tc.body)
				if r.Status != tc.status || r.Problem(t).Code != tc.code {
					t.Fatalf("got %d %s, want %d %s", r.Status, r.Body, tc.status, tc.code)
				}
			})
		}
	})

	before := time.Now()
	s := open(t, support, startPath, map[string]any{"reason": "ticket #1234: owner cannot find the refund button"})
	if s.UserID != owner.User.ID || s.TenantHost != hostA || s.AdminURL != env.App.Cfg.PublicURL(hostA)+"/admin" ||
		s.ExpiresAt.Before(before.Add(10*time.Minute-time.Second)) ||
		s.ExpiresAt.After(time.Now().Add(10*time.Minute)) {
		t.Fatalf("session = %+v", s)
	}
	banner := func(t *testing.T, r *apptest.Response) {
		t.Helper()
		if r.Header.Get("X-Paotui-Impersonator") != supportID ||
			r.Header.Get("X-Paotui-Impersonation-Expires") != s.ExpiresAt.UTC().Format(time.RFC3339) {
			t.Fatalf("banner headers = %v (admin %s, expires %s)", r.Header, supportID, s.ExpiresAt)
		}
	}

	t.Run("acts as the owner", func(t *testing.T) {
		r := env.Do(hostA, "GET", "/api/v1/users", s.Token, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("list-users: %d %s", r.Status, r.Body)
		}
		banner(t, r)
		r = env.Do(hostA, "GET", "/api/v1/me", s.Token, nil)
		var me struct {
			ID                     string    `json:"id"`
			Impersonator           string    `json:"impersonator"`
			ImpersonationExpiresAt time.Time `json:"impersonationExpiresAt"`
		}
		r.JSON(t, &me)
		if r.Status != http.StatusOK || me.ID != owner.User.ID || me.Impersonator != supportID || !me.ImpersonationExpiresAt.Equal(s.ExpiresAt) {
			t.Fatalf("get-me: %d %s", r.Status, r.Body)
		}
		banner(t, r)
		brand := map[string]any{"name": "支持中", "primaryColor": "#0050b3", "accentColor": "#faad14"}
		r = env.Do(hostA, "PUT", "/api/v1/admin/branding", s.Token, brand)
		if r.Status != http.StatusOK {
			t.Fatalf("update-branding: %d %s", r.Status, r.Body)
		}
		banner(t, r)
		brand["primaryColor"] = "blue"
		if r := env.Do(hostA, "PUT", "/api/v1/admin/branding", s.Token, brand); r.Status != http.StatusUnprocessableEntity {
			t.Fatalf("bad branding: %d %s", r.Status, r.Body)
		} else {
			banner(t, r)
		}
		r = env.Do(hostA, "POST", "/api/v1/staff/roles", s.Token, map[string]string{"phone": "13800000064", "role": "dispatcher"})
		if r.Status != http.StatusOK {
			t.Fatalf("grant-role: %d %s", r.Status, r.Body)
		}
		// The owner's own token carries no banner.
		if r := env.Do(hostA, "GET", "/api/v1/users", owner.AccessToken, nil); r.Header.Get("X-Paotui-Impersonator") != "" {
			t.Fatalf("owner's own request has a banner: %v", r.Header)
		}
	})

	t.Run("only on its tenant's host", func(t *testing.T) {
		for _, host := range []string{env.Host("imp-b"), plat} {
			path := "/api/v1/me"
			if host == plat {
				path = "/api/v1/platform/me"
			}
			if r := env.Do(host, "GET", path, s.Token, nil); r.Status != http.StatusUnauthorized || r.Problem(t).Code != "token_invalid" {
				t.Fatalf("%s: %d %s", host, r.Status, r.Body)
			}
		}
	})

	as := "platform:" + supportID + " as user:" + owner.User.ID
	t.Run("tenant audit log names both", func(t *testing.T) {
		r := env.Do(hostA, "GET", "/api/v1/audit-log?limit=200", owner.AccessToken, nil)
		var page struct{ Items []auditEntry }
		r.JSON(t, &page)
		var start, branding, grant int
		var requests []string
		for _, e := range page.Items {
			switch {
			case e.Action == "impersonation.start" && e.Actor == as && e.Target == "user:"+owner.User.ID &&
				e.Meta["impersonationId"] == s.ImpersonationID && strings.HasPrefix(e.Meta["reason"].(string), "ticket #1234"):
				start++
			case e.Action == "settings.branding.update" && e.Actor == as:
				branding++
			case e.Action == "roles.grant" && e.Actor == as:
				grant++
			case e.Action == "impersonation.request":
				if e.Actor != as || e.Target != "user:"+owner.User.ID || e.Meta["impersonationId"] != s.ImpersonationID {
					t.Errorf("request entry %+v", e)
				}
				requests = append(requests, fmt.Sprintf("%v %v %v", e.Meta["method"], e.Meta["operation"], e.Meta["status"]))
			}
		}
		// Newest first; reads (list-users, get-me) are not recorded.
		want := "POST grant-role 200|PUT update-branding 422|PUT update-branding 200"
		if start != 1 || branding != 1 || grant != 1 || strings.Join(requests, "|") != want {
			t.Fatalf("start %d, branding %d, grant %d, requests %q (want %q)", start, branding, grant, requests, want)
		}
	})

	t.Run("platform audit log names the admin", func(t *testing.T) {
		rows := platformAudit(t, env, ta.ID)
		var opened, requests int
		for _, e := range rows {
			switch {
			case e.Action == "tenant.impersonate" && e.Meta["impersonationId"] == s.ImpersonationID:
				if e.Actor != "platform:"+supportID || e.Target != "tenant:imp-a" || e.Meta["userId"] != owner.User.ID ||
					!strings.HasPrefix(e.Meta["reason"].(string), "ticket #1234") || e.Meta["expiresAt"] == nil {
					t.Errorf("tenant.impersonate = %+v", e)
				}
				opened++
			case e.Action == "impersonation.request":
				if e.Actor != "platform:"+supportID || e.Target != "user:"+owner.User.ID || e.Meta["impersonationId"] != s.ImpersonationID {
					t.Errorf("impersonation.request = %+v", e)
				}
				requests++
			}
		}
		if opened != 1 || requests != 3 {
			t.Fatalf("tenant.impersonate %d, impersonation.request %d: %+v", opened, requests, rows)
		}
	})

	t.Run("ended early", func(t *testing.T) {
		path := "/api/v1/platform/impersonations/" + s.ImpersonationID
		if r := env.Do(plat, "DELETE", path, finance, nil); r.Status != http.StatusForbidden {
			t.Fatalf("finance ends: %d %s", r.Status, r.Body)
		}
		if r := env.Do(plat, "DELETE", path, support, nil); r.Status != http.StatusNoContent {
			t.Fatalf("end: %d %s", r.Status, r.Body)
		}
		r := env.Do(hostA, "GET", "/api/v1/users", s.Token, nil)
		if r.Status != http.StatusUnauthorized || r.Problem(t).Code != "impersonation_ended" {
			t.Fatalf("ended session: %d %s", r.Status, r.Body)
		}
		if r := env.Do(plat, "DELETE", path, support, nil); r.Status != http.StatusNoContent {
			t.Fatalf("second end: %d %s", r.Status, r.Body)
		}
		r = env.Do(plat, "DELETE", "/api/v1/platform/impersonations/"+uuid.NewString(), support, nil)
		if r.Status != http.StatusNotFound || r.Problem(t).Code != "impersonation_not_found" {
			t.Fatalf("unknown session: %d %s", r.Status, r.Body)
		}
		ends := 0
		for _, e := range platformAudit(t, env, ta.ID) {
			if e.Action == "impersonation.end" && e.Meta["impersonationId"] == s.ImpersonationID {
				ends++
			}
		}
		if ends != 1 {
			t.Fatalf("impersonation.end entries: %d", ends)
		}
	})

	t.Run("admin disabled", func(t *testing.T) {
		other := env.PlatformLogin("support2@paotui.test", "support-password", "support")
		s2 := open(t, other, startPath, map[string]any{"reason": "second opinion"})
		if r := env.Do(hostA, "GET", "/api/v1/me", s2.Token, nil); r.Status != http.StatusOK {
			t.Fatalf("before: %d %s", r.Status, r.Body)
		}
		if err := env.App.DB.Gorm.Exec(`UPDATE public.platform_admins SET disabled_at = now() WHERE email = 'support2@paotui.test'`).Error; err != nil {
			t.Fatal(err)
		}
		r := env.Do(hostA, "GET", "/api/v1/me", s2.Token, nil)
		if r.Status != http.StatusUnauthorized || r.Problem(t).Code != "impersonation_ended" {
			t.Fatalf("after: %d %s", r.Status, r.Body)
		}
	})

	t.Run("suspended tenant", func(t *testing.T) {
		env.Tenant("imp-s", "13800000065")
		paused, err := env.App.SetTenantStatus(ctx, "imp-s", tenancy.StatusSuspended, "unpaid", "test")
		if err != nil {
			t.Fatal(err)
		}
		s3 := open(t, support, fmt.Sprintf("/api/v1/platform/tenants/%d/impersonate", paused.ID), map[string]any{"reason": "billing"})
		// The session sees what the owner would: sign-in operations, not the paused service.
		if r := env.Do(env.Host("imp-s"), "GET", "/api/v1/me", s3.Token, nil); r.Status != http.StatusOK {
			t.Fatalf("get-me: %d %s", r.Status, r.Body)
		}
		if r := env.Do(env.Host("imp-s"), "GET", "/api/v1/users", s3.Token, nil); r.Status != http.StatusForbidden || r.Problem(t).Code != "tenant_suspended" {
			t.Fatalf("list-users: %d %s", r.Status, r.Body)
		}
	})

	t.Run("tenant not in service", func(t *testing.T) {
		setup, err := env.App.Provision.Register(ctx, provision.Request{Slug: "imp-p", Name: "imp-p", OwnerPhone: "13800000066", Blueprint: "default"})
		if err != nil {
			t.Fatal(err)
		}
		gone, err := env.App.Provision.Register(ctx, provision.Request{Slug: "imp-d", Name: "imp-d", OwnerPhone: "13800000067", Blueprint: "default"})
		if err != nil {
			t.Fatal(err)
		}
		if err := env.App.DB.Gorm.Exec(`UPDATE public.tenants SET status = 'deleted' WHERE id = ?`, gone.ID).Error; err != nil {
			t.Fatal(err)
		}
		for id, code := range map[int64]string{setup.ID: "tenant_provisioning", gone.ID: "tenant_deleted"} {
			r := env.Do(plat, "POST", fmt.Sprintf("/api/v1/platform/tenants/%d/impersonate", id), support, map[string]any{"reason": "r"})
			if r.Status != http.StatusConflict || r.Problem(t).Code != code {
				t.Fatalf("tenant %d: %d %s, want %s", id, r.Status, r.Body, code)
			}
		}
	})

	t.Run("expired", func(t *testing.T) {
		time.Sleep(time.Until(short.ExpiresAt.Add(1100 * time.Millisecond)))
		r := env.Do(hostA, "GET", "/api/v1/me", short.Token, nil)
		if r.Status != http.StatusUnauthorized || r.Problem(t).Code != "impersonation_expired" {
			t.Fatalf("expired session: %d %s", r.Status, r.Body)
		}
	})
}

func platformAdminID(t *testing.T, env *apptest.Env, token string) string {
	t.Helper()
	r := env.Do(env.PlatformHost(), "GET", "/api/v1/platform/me", token, nil)
	var a struct{ ID string }
	r.JSON(t, &a)
	if r.Status != http.StatusOK || a.ID == "" {
		t.Fatalf("platform me: %d %s", r.Status, r.Body)
	}
	return a.ID
}

// platformAudit returns the platform audit entries about tenant id, oldest first.
func platformAudit(t *testing.T, env *apptest.Env, id int64) []auditEntry {
	t.Helper()
	var rows []struct {
		Actor, Action, Target string
		Meta                  []byte
	}
	if err := env.App.DB.Gorm.Raw(`SELECT actor, action, target, meta FROM public.platform_audit_log WHERE tenant_id = ? ORDER BY id`, id).
		Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	out := make([]auditEntry, len(rows))
	for i, r := range rows {
		out[i] = auditEntry{Actor: r.Actor, Action: r.Action, Target: r.Target}
		if err := json.Unmarshal(r.Meta, &out[i].Meta); err != nil {
			t.Fatal(err)
		}
	}
	return out
}
