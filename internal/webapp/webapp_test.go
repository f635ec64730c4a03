package webapp_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/paotui/paotui/internal/app/apptest"
	"github.com/paotui/paotui/internal/platform/provision"
	"github.com/paotui/paotui/internal/platform/tenancy"
)

// page is a built index.html as Vite writes it, the marker in its head.
func page(app string) []byte {
	return []byte(`<!doctype html><html lang="zh-CN"><head><meta charset="UTF-8">` +
		`<!--paotui:head--><script type="module" crossorigin src="/assets/index-1a2b.js"></script></head>` +
		`<body><div id="app" data-app="` + app + `"></div></body></html>`)
}

// dist stands in for web/dist.
func dist() fstest.MapFS {
	return fstest.MapFS{
		"site/index.html":                  {Data: page("site")},
		"platform/index.html":              {Data: page("platform")},
		"student/index.html":               {Data: page("student")},
		"student/favicon.ico":              {Data: []byte("\x00\x00\x01\x00icon")},
		"student/assets/index-1a2b.js":     {Data: []byte("console.log('student')")},
		"courier/index.html":               {Data: page("courier")},
		"courier/assets/x.js":              {Data: []byte("console.log('courier')")},
		"courier/assets/fonts/icons.woff2": {Data: []byte("wOF2font")},
		"admin/index.html":                 {Data: page("admin")},
	}
}

// serve starts the application's real router over web, a stand-in for the embedded build.
func serve(t *testing.T, web fs.FS) *apptest.Env {
	t.Helper()
	env := apptest.New(t)
	env.App.Web = web
	env.Server = env.App.HTTP()
	env.HTTP = httptest.NewServer(env.Server)
	t.Cleanup(env.HTTP.Close)
	return env
}

type reply struct {
	status int
	header http.Header
	body   string
}

// get fetches path on host without following redirects.
func get(t *testing.T, env *apptest.Env, method, host, path string, header map[string]string) reply {
	t.Helper()
	req, err := http.NewRequest(method, env.HTTP.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	for k, v := range header {
		req.Header.Set(k, v)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{status: res.StatusCode, header: res.Header, body: string(raw)}
}

// bootData is window.__PAOTUI__ as the apps read it.
type bootData struct {
	Host struct {
		Kind string `json:"kind"`
	} `json:"host"`
	Tenant *struct {
		Slug     string  `json:"slug"`
		Name     string  `json:"name"`
		Status   string  `json:"status"`
		Hold     *string `json:"hold"`
		Branding struct {
			DisplayName  string `json:"displayName"`
			PrimaryColor string `json:"primaryColor"`
			AccentColor  string `json:"accentColor"`
			Announcement string `json:"announcement"`
		} `json:"branding"`
	} `json:"tenant"`
	Locale  string `json:"locale"`
	APIBase string `json:"apiBase"`
}

// index checks r is app's page with the head written in (and allowed by the CSP), and returns
// its boot data.
func index(t *testing.T, r reply, app string) bootData {
	t.Helper()
	if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Fatalf("status %d, content type %q: %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	if !strings.Contains(r.body, `data-app="`+app+`"`) {
		t.Fatalf("not the %s app: %s", app, r.body)
	}
	if strings.Contains(r.body, "<!--paotui:head-->") {
		t.Fatalf("marker left in the page: %s", r.body)
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-cache" {
		t.Fatalf("index cache-control %q", cc)
	}
	if r.header.Get("X-Content-Type-Options") != "nosniff" || r.header.Get("Referrer-Policy") == "" {
		t.Fatalf("security headers: %v", r.header)
	}
	const open, end = "<script>", "</script>"
	i := strings.Index(r.body, open+"window.__PAOTUI__=")
	if i < 0 {
		t.Fatalf("no boot script: %s", r.body)
	}
	script := r.body[i+len(open):]
	script = script[:strings.Index(script, end)]
	sum := sha256.Sum256([]byte(script))
	csp := r.header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") || !strings.Contains(csp, "default-src 'self'") {
		t.Fatalf("the CSP does not allow the boot script %q: %s", script, csp)
	}
	var b bootData
	if err := json.Unmarshal([]byte(strings.TrimSuffix(strings.TrimPrefix(script, "window.__PAOTUI__="), ";")), &b); err != nil {
		t.Fatalf("boot data %q: %v", script, err)
	}
	if b.Locale != "zh-CN" || b.APIBase != "/api/v1" {
		t.Fatalf("boot data: %+v", b)
	}
	return b
}

func TestServeWebApps(t *testing.T) {
	env := serve(t, dist())
	env.Tenant("alpha", "13800000101")
	host := env.Host("alpha")
	owner := env.Login("alpha", "13800000101")
	brand := map[string]any{"name": "阿尔法跑腿", "primaryColor": "#12ab34", "accentColor": "#aa5500", "announcement": "a\u2028b"}
	if r := env.Do(host, "PUT", "/api/v1/admin/branding", owner.AccessToken, brand); r.Status != http.StatusOK {
		t.Fatalf("update branding: %d %s", r.Status, r.Body)
	}

	t.Run("tenant root is the student app, branded", func(t *testing.T) {
		r := get(t, env, "GET", host, "/", nil)
		b := index(t, r, "student")
		if !strings.Contains(r.body, "<title>阿尔法跑腿</title>") || !strings.Contains(r.body, `<meta name="theme-color" content="#12ab34">`) ||
			!strings.Contains(r.body, "--pt-primary:#12ab34;--pt-accent:#aa5500") {
			t.Fatalf("head: %s", r.body)
		}
		if b.Host.Kind != "tenant" || b.Tenant == nil || b.Tenant.Slug != "alpha" || b.Tenant.Status != "active" || b.Tenant.Hold != nil ||
			b.Tenant.Branding.DisplayName != "阿尔法跑腿" || b.Tenant.Branding.PrimaryColor != "#12ab34" || b.Tenant.Branding.Announcement != "a\u2028b" {
			t.Fatalf("boot data: %+v", b.Tenant)
		}
		// A raw U+2028 ends a line inside a script in older engines.
		if strings.ContainsRune(r.body, '\u2028') {
			t.Fatal("U+2028 written raw into the page")
		}
	})
	t.Run("client routes fall back to their app", func(t *testing.T) {
		index(t, get(t, env, "GET", host, "/admin/orders/123", nil), "admin")
		index(t, get(t, env, "GET", host, "/courier/trips/9", nil), "courier")
		index(t, get(t, env, "GET", host, "/orders/new", nil), "student")
		index(t, get(t, env, "GET", host, "/admin/", nil), "admin")
		index(t, get(t, env, "GET", host, "/courier/index.html", nil), "courier")
	})
	t.Run("mount without slash redirects", func(t *testing.T) {
		r := get(t, env, "GET", host, "/admin?tab=orders", nil)
		if r.status != http.StatusMovedPermanently || r.header.Get("Location") != "/admin/?tab=orders" {
			t.Fatalf("%d %v", r.status, r.header)
		}
	})
	t.Run("hashed assets are immutable", func(t *testing.T) {
		r := get(t, env, "GET", host, "/courier/assets/x.js", nil)
		if r.status != http.StatusOK || r.body != "console.log('courier')" ||
			r.header.Get("Cache-Control") != "public, max-age=31536000, immutable" ||
			!strings.HasPrefix(r.header.Get("Content-Type"), "text/javascript") || r.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("%d %v %q", r.status, r.header, r.body)
		}
		if r := get(t, env, "GET", host, "/courier/assets/fonts/icons.woff2", nil); r.header.Get("Content-Type") != "font/woff2" {
			t.Fatalf("font: %v", r.header)
		}
		// The student app is mounted at /, so its assets are too.
		if r := get(t, env, "GET", host, "/assets/index-1a2b.js", nil); r.body != "console.log('student')" {
			t.Fatalf("student asset: %d %q", r.status, r.body)
		}
	})
	t.Run("other files revalidate", func(t *testing.T) {
		r := get(t, env, "GET", host, "/favicon.ico", nil)
		tag := r.header.Get("ETag")
		if r.status != http.StatusOK || r.header.Get("Cache-Control") != "no-cache" || tag == "" {
			t.Fatalf("%d %v", r.status, r.header)
		}
		if r := get(t, env, "GET", host, "/favicon.ico", map[string]string{"If-None-Match": tag}); r.status != http.StatusNotModified {
			t.Fatalf("revalidation: %d", r.status)
		}
	})
	t.Run("missing files are 404, not the index", func(t *testing.T) {
		for _, p := range []string{"/assets/gone-123.js", "/courier/assets/gone", "/robots.txt"} {
			r := get(t, env, "GET", host, p, nil)
			if r.status != http.StatusNotFound || strings.Contains(r.body, "data-app") || r.header.Get("X-Content-Type-Options") != "nosniff" {
				t.Fatalf("%s: %d %s", p, r.status, r.body)
			}
		}
	})
	t.Run("HEAD answers without a body", func(t *testing.T) {
		r := get(t, env, "HEAD", host, "/admin/orders", nil)
		if r.status != http.StatusOK || r.body != "" || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
			t.Fatalf("%d %v %q", r.status, r.header, r.body)
		}
	})
	t.Run("platform and base hosts get their apps", func(t *testing.T) {
		b := index(t, get(t, env, "GET", env.PlatformHost(), "/tenants/42", nil), "platform")
		if b.Host.Kind != "platform" || b.Tenant != nil {
			t.Fatalf("platform boot: %+v", b)
		}
		// /admin on the platform host is a client route of the platform app, not a tenant's admin.
		index(t, get(t, env, "GET", env.PlatformHost(), "/admin/x", nil), "platform")
		r := get(t, env, "GET", env.App.Cfg.BaseDomain, "/signup", nil)
		if b := index(t, r, "site"); b.Host.Kind != "base" || b.Tenant != nil {
			t.Fatalf("base boot: %+v", b)
		}
		if !strings.Contains(r.body, "--pt-primary:#1677ff") {
			t.Fatalf("base page without the default colours: %s", r.body)
		}
	})
	t.Run("a tenant name cannot break out of the page", func(t *testing.T) {
		evil := map[string]any{"name": `</script><script>alert(1)</script><!--`, "primaryColor": "#12ab34", "accentColor": "#aa5500"}
		if r := env.Do(host, "PUT", "/api/v1/admin/branding", owner.AccessToken, evil); r.Status != http.StatusOK {
			t.Fatalf("update branding: %d %s", r.Status, r.Body)
		}
		r := get(t, env, "GET", host, "/", nil)
		b := index(t, r, "student")
		if strings.Contains(r.body, "alert(1)</script>") || strings.Count(r.body, "<script") != 2 || strings.Contains(r.body, "<!--") {
			t.Fatalf("markup from the tenant name reached the page: %s", r.body)
		}
		if !strings.Contains(r.body, "<title>&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;!--</title>") {
			t.Fatalf("title not escaped: %s", r.body)
		}
		if b.Tenant.Branding.DisplayName != evil["name"] {
			t.Fatalf("boot data changed the name: %q", b.Tenant.Branding.DisplayName)
		}
	})
	t.Run("two tenants render their own brand", func(t *testing.T) {
		env.Tenant("beta", "13800000102")
		b := index(t, get(t, env, "GET", env.Host("beta"), "/", nil), "student")
		if b.Tenant.Slug != "beta" || b.Tenant.Branding.PrimaryColor != "#1677ff" || b.Tenant.Name != "beta 跑腿" {
			t.Fatalf("beta: %+v", b.Tenant)
		}
	})
	t.Run("a suspended tenant still gets its pages, marked paused", func(t *testing.T) {
		env.Tenant("gamma", "13800000103")
		if _, err := env.App.SetTenantStatus(context.Background(), "gamma", tenancy.StatusSuspended, "test", "test"); err != nil {
			t.Fatal(err)
		}
		b := index(t, get(t, env, "GET", env.Host("gamma"), "/orders", nil), "student")
		if b.Tenant.Status != "suspended" || b.Tenant.Hold == nil || *b.Tenant.Hold != string(tenancy.HoldPlatform) {
			t.Fatalf("gamma: %+v", b.Tenant)
		}
		if r := env.Do(env.Host("gamma"), "GET", "/api/v1/places", "", nil); r.Status != http.StatusForbidden || r.Problem(t).Code != "tenant_suspended" {
			t.Fatalf("the API of a paused tenant: %d %s", r.Status, r.Body)
		}
	})
	t.Run("a tenant being set up keeps the status problem", func(t *testing.T) {
		if _, err := env.App.Provision.Register(context.Background(), provision.Request{Slug: "delta", Name: "delta", OwnerPhone: "13800000104"}); err != nil {
			t.Fatal(err)
		}
		r := env.Do(env.Host("delta"), "GET", "/", "", nil)
		if r.Status != http.StatusServiceUnavailable || r.Problem(t).Code != "tenant_provisioning" {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	})
	t.Run("API paths and unknown hosts answer as before", func(t *testing.T) {
		cases := []struct {
			name, host, method, path string
			status                   int
			code, allow              string
		}{
			{"unknown route", host, "GET", "/api/v1/nothing-here", 404, "not_found", ""},
			{"unknown route, other method", host, "POST", "/api/v1/nothing-here", 404, "not_found", ""},
			{"api root", host, "GET", "/api", 404, "not_found", ""},
			{"wrong method", host, "DELETE", "/api/v1/me", 405, "method_not_allowed", "OPTIONS, GET, PATCH"},
			{"GET of a POST operation", host, "GET", "/api/v1/auth/login", 405, "method_not_allowed", "OPTIONS, POST"},
			{"POST to a page", host, "POST", "/admin/orders", 404, "not_found", ""},
			{"unknown tenant", "nowhere." + env.App.Cfg.BaseDomain, "GET", "/", 404, "tenant_not_found", ""},
			{"reserved subdomain", "www." + env.App.Cfg.BaseDomain, "GET", "/admin/", 404, "tenant_not_found", ""},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := env.Do(tc.host, tc.method, tc.path, owner.AccessToken, nil)
				if r.Status != tc.status || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/problem+json") {
					t.Fatalf("%d %q: %s", r.Status, r.Header.Get("Content-Type"), r.Body)
				}
				if p := r.Problem(t); p.Code != tc.code {
					t.Fatalf("code %q, want %q", p.Code, tc.code)
				}
				if got := r.Header.Get("Allow"); got != tc.allow {
					t.Fatalf("Allow %q, want %q", got, tc.allow)
				}
			})
		}
		if r := get(t, env, "OPTIONS", host, "/api/v1/me", nil); r.status != http.StatusNoContent || r.header.Get("Allow") != "OPTIONS, GET, PATCH" {
			t.Fatalf("OPTIONS: %d %v", r.status, r.header)
		}
		r := env.Do(host, "GET", "/api/v1/branding", "", nil)
		if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || r.Header.Get("Content-Security-Policy") != "" {
			t.Fatalf("get-branding: %d %v %s", r.Status, r.Header, r.Body)
		}
		if r := env.Do(host, "GET", "/healthz", "", nil); r.Status != http.StatusOK {
			t.Fatalf("healthz: %d", r.Status)
		}
	})
}

// Without a build the web paths say how to make one, and the API is untouched.
func TestServeWithoutBuild(t *testing.T) {
	partial := fstest.MapFS{"student/index.html": {Data: page("student")}}
	env := serve(t, nil)
	env.Tenant("omega", "13800000105")
	host := env.Host("omega")
	for _, p := range []string{"/", "/admin/orders", "/assets/x.js"} {
		r := get(t, env, "GET", host, p, nil)
		if r.status != http.StatusNotFound || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") ||
			!strings.Contains(r.body, "not built") || !strings.Contains(r.body, "make build") {
			t.Fatalf("%s: %d %v %s", p, r.status, r.header, r.body)
		}
	}
	if r := env.Do(host, "GET", "/api/v1/branding", "", nil); r.Status != http.StatusOK {
		t.Fatalf("get-branding: %d %s", r.Status, r.Body)
	}
	// A build that lacks one app serves the others.
	env.App.Web = partial
	srv := httptest.NewServer(env.App.HTTP())
	t.Cleanup(srv.Close)
	env.HTTP = srv
	index(t, get(t, env, "GET", host, "/", nil), "student")
	if r := get(t, env, "GET", host, "/admin/", nil); r.status != http.StatusNotFound || !strings.Contains(r.body, "not built") {
		t.Fatalf("missing admin app: %d %s", r.status, r.body)
	}
}
