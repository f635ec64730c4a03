package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
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
	// Map tiles: an https template with {z}, {x} and {y}, and a plain-text credit.
	update["logoUrl"] = ""
	for _, bad := range []map[string]any{
		{"mapTileUrl": "http://tiles.example.com/{z}/{x}/{y}.png"},
		{"mapTileUrl": "https://tiles.example.com/tile.png"},
		{"mapTileUrl": "javascript:alert(1)//{z}{x}{y}"},
		{"mapTileUrl": "https://tiles.example.com/{z}/{x}/{y}.png", "mapAttribution": "<img src=x onerror=alert(1)>"},
	} {
		body := map[string]any{}
		for k, v := range update {
			body[k] = v
		}
		for k, v := range bad {
			body[k] = v
		}
		if r := env.Do(env.Host("blue"), "PUT", "/api/v1/admin/branding", owner.AccessToken, body); r.Status != http.StatusUnprocessableEntity || r.Problem(t).Code != "branding_invalid" {
			t.Errorf("map tiles %v: %d %s", bad, r.Status, r.Body)
		}
	}
	update["mapTileUrl"], update["mapAttribution"] = " https://{s}.tiles.example.com/{z}/{x}/{y}.png ", "© Example contributors"
	if r := env.Do(env.Host("blue"), "PUT", "/api/v1/admin/branding", owner.AccessToken, update); r.Status != http.StatusOK ||
		!strings.Contains(string(r.Body), `"mapTileUrl":"https://{s}.tiles.example.com/{z}/{x}/{y}.png"`) {
		t.Fatalf("map tiles: %d %s", r.Status, r.Body)
	}
	if _, err := env.App.SetTenantStatus(context.Background(), "blue", tenancy.StatusSuspended, "unpaid", "test"); err != nil {
		t.Fatal(err)
	}
	r = env.Do(env.Host("blue"), "GET", "/api/v1/branding", "", nil)
	if !strings.Contains(string(r.Body), `"mapAttribution":"© Example contributors"`) {
		t.Errorf("branding lost the map tiles: %s", r.Body)
	}
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

// The owner uploads a logo: only a PNG, JPEG or WebP of at most 512 KiB (judged from the
// bytes); branding then points at it, and it is served publicly on the tenant's host, also
// while the service is paused; another tenant has none.
func TestLogoUpload(t *testing.T) {
	env := apptest.New(t)
	env.Tenant("red", "13800000020", "demo")
	env.Tenant("blue", "13800000021")
	host := env.Host("red")
	owner := env.Login("red", "13800000020")
	student := env.Login("red", "13900000001")
	put := func(token, contentType string, body []byte) (int, []byte) {
		t.Helper()
		req, err := http.NewRequest("PUT", env.HTTP.URL+"/api/v1/admin/branding/logo", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Host = host
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := env.HTTP.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		return res.StatusCode, raw
	}
	logo := pngPhoto(t)
	for _, tc := range []struct {
		name   string
		token  string
		body   []byte
		status int
		code   string
	}{
		{"student", student.AccessToken, logo, http.StatusForbidden, "permission_denied"},
		{"text claiming to be a png", owner.AccessToken, []byte(strings.Repeat("not an image ", 50)), http.StatusUnsupportedMediaType, "logo_type"},
		{"svg", owner.AccessToken, []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), http.StatusUnsupportedMediaType, "logo_type"},
		{"over 512 KiB", owner.AccessToken, append(append([]byte{}, logo...), make([]byte, 512<<10)...), http.StatusRequestEntityTooLarge, "logo_too_large"},
	} {
		status, body := put(tc.token, "image/png", tc.body)
		if status != tc.status || !strings.Contains(string(body), `"code":"`+tc.code+`"`) {
			t.Errorf("%s: %d %s; want %d %s", tc.name, status, body, tc.status, tc.code)
		}
	}
	if r := env.Do(host, "GET", "/api/v1/branding/logo", "", nil); r.Status != http.StatusNotFound {
		t.Fatalf("logo before upload: %d", r.Status)
	}
	status, body := put(owner.AccessToken, "image/png", logo)
	var v struct{ LogoURL string }
	if err := json.Unmarshal(body, &v); status != http.StatusOK || err != nil || !strings.HasPrefix(v.LogoURL, "/api/v1/branding/logo?v=") {
		t.Fatalf("upload: %d %s", status, body)
	}
	// The colours the owner set are kept; the branding names the logo.
	r := env.Do(host, "GET", "/api/v1/branding", "", nil)
	if !strings.Contains(string(r.Body), v.LogoURL) || !strings.Contains(string(r.Body), `"primaryColor":"#c2185b"`) {
		t.Fatalf("branding after upload: %s", r.Body)
	}
	if _, err := env.App.SetTenantStatus(context.Background(), "red", tenancy.StatusSuspended, "unpaid", "test"); err != nil {
		t.Fatal(err)
	}
	r = env.Do(host, "GET", v.LogoURL, "", nil)
	if r.Status != http.StatusOK || !bytes.Equal(r.Body, logo) || r.Header.Get("Content-Type") != "image/png" ||
		!strings.Contains(r.Header.Get("Cache-Control"), "max-age") {
		t.Fatalf("logo while paused: %d %v", r.Status, r.Header)
	}
	if r := env.Do(env.Host("blue"), "GET", "/api/v1/branding/logo", "", nil); r.Status != http.StatusNotFound {
		t.Fatalf("another tenant's logo: %d", r.Status)
	}
	// Back in service, saving the branding form again keeps the uploaded logo.
	if _, err := env.App.SetTenantStatus(context.Background(), "red", tenancy.StatusActive, "paid", "test"); err != nil {
		t.Fatal(err)
	}
	update := map[string]any{"name": "红色跑腿", "primaryColor": "#c2185b", "accentColor": "#ff7a00", "logoUrl": v.LogoURL}
	if r := env.Do(host, "PUT", "/api/v1/admin/branding", owner.AccessToken, update); r.Status != http.StatusOK {
		t.Fatalf("update with the uploaded logo: %d %s", r.Status, r.Body)
	}
}
