package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/paotui/paotui/internal/app/apptest"
	"github.com/paotui/paotui/internal/platform/tenancy"
)

// Each tenant host shows its own brand, also while paused; the owner changes it (name
// included) and every host cache hears of it.
func TestBrandingPerTenant(t *testing.T) {
	env := apptest.New(t)
	env.Tenant("red", "13800000020", "demo")
	env.Tenant("blue", "13800000021")
	red := env.Do(env.Host("red"), "GET", "/api/v1/branding", "", nil)
	blue := env.Do(env.Host("blue"), "GET", "/api/v1/branding", "", nil)
	if red.Status != 200 || !strings.Contains(string(red.Body), `"primaryColor":"#c2185b"`) ||
		!strings.Contains(string(blue.Body), `"primaryColor":"#1677ff"`) || !strings.Contains(string(blue.Body), `"slug":"blue"`) {
		t.Fatalf("branding: %s / %s", red.Body, blue.Body)
	}
	owner := env.Login("blue", "13800000021")
	update := map[string]any{"name": "蓝色跑腿", "primaryColor": "#0050b3", "accentColor": "#faad14", "servicePhone": "027-1234567",
		"announcement": "期末周加急服务上线"}
	r := env.Do(env.Host("blue"), "PUT", "/api/v1/admin/branding", owner.AccessToken, update)
	if r.Status != 200 || !strings.Contains(string(r.Body), "蓝色跑腿") {
		t.Fatalf("update: %d %s", r.Status, r.Body)
	}
	update["primaryColor"] = "blue"
	if r := env.Do(env.Host("blue"), "PUT", "/api/v1/admin/branding", owner.AccessToken, update); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("bad colour: %d %s", r.Status, r.Body)
	}
	update["primaryColor"], update["logoUrl"] = "#0050b3", "javascript:alert(1)"
	if r := env.Do(env.Host("blue"), "PUT", "/api/v1/admin/branding", owner.AccessToken, update); r.Status != http.StatusUnprocessableEntity || r.Problem(t).Code != "branding_invalid" {
		t.Fatalf("bad logo: %d %s", r.Status, r.Body)
	}
	if _, err := env.App.SetTenantStatus(context.Background(), "blue", tenancy.StatusSuspended, "unpaid", "test"); err != nil {
		t.Fatal(err)
	}
	r = env.Do(env.Host("blue"), "GET", "/api/v1/branding", "", nil)
	if r.Status != 200 || !strings.Contains(string(r.Body), "蓝色跑腿") || !strings.Contains(string(r.Body), `"status":"suspended"`) {
		t.Fatalf("branding while paused: %d %s", r.Status, r.Body)
	}
	// The new name reaches the status gate's message too (the host cache was invalidated).
	r = env.Do(env.Host("blue"), "GET", "/api/v1/users", owner.AccessToken, nil)
	if r.Status != http.StatusForbidden || !strings.Contains(r.Problem(t).Detail, "蓝色跑腿") {
		t.Fatalf("paused tenant: %d %s", r.Status, r.Body)
	}
}

func TestCheckSubdomain(t *testing.T) {
	env := apptest.New(t)
	env.Tenant("taken", "13800000022")
	for slug, want := range map[string]string{
		"fresh-team": `"available":true`, "Fresh-Team": `"slug":"fresh-team"`, "taken": `"reason":"taken"`,
		"admin": `"reason":"reserved"`, "a": `"reason":"invalid"`, "x--y": `"reason":"invalid"`,
	} {
		r := env.Do("localhost", "GET", "/api/v1/signup/subdomains/"+slug, "", nil)
		if r.Status != 200 || !strings.Contains(string(r.Body), want) {
			t.Errorf("%s: %d %s", slug, r.Status, r.Body)
		}
	}
	if r := env.Do(env.Host("taken"), "GET", "/api/v1/signup/subdomains/x", "", nil); r.Status != http.StatusNotFound {
		t.Errorf("check-subdomain on a tenant host: %d", r.Status)
	}
}
