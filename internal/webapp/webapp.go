package webapp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/paotui/paotui/internal/branding"
	"github.com/paotui/paotui/internal/httpx"
	"github.com/paotui/paotui/internal/platform/tenancy"
)

// Brands reads a tenant's branding; the branding domain implements it.
type Brands interface {
	Get(ctx context.Context, t *tenancy.Tenant) (*branding.View, error)
}

// Handler serves the apps of one build.
type Handler struct {
	dist   fs.FS // nil: the binary carries no web build
	brands Brands
	log    *slog.Logger
	etags  sync.Map // file name -> ETag of the files that are not content-hashed
}

// New serves the apps in dist (one directory per app, as web.Dist() lays them out); a nil dist
// answers every page with how to build them.
func New(dist fs.FS, brands Brands, log *slog.Logger) *Handler {
	return &Handler{dist: dist, brands: brands, log: log}
}

// app is one Vite app: its directory under dist and the path it is mounted at (its Vite base).
type app struct{ dir, mount string }

var (
	siteApp     = app{"site", "/"}
	platformApp = app{"platform", "/"}
	studentApp  = app{"student", "/"}
	courierApp  = app{"courier", "/courier/"}
	adminApp    = app{"admin", "/admin/"}
)

// pick chooses the app for a host and path.
func pick(kind tenancy.HostKind, p string) app {
	switch kind {
	case tenancy.KindBase:
		return siteApp
	case tenancy.KindPlatform:
		return platformApp
	}
	for _, a := range []app{courierApp, adminApp} {
		if p+"/" == a.mount || strings.HasPrefix(p, a.mount) {
			return a
		}
	}
	return studentApp
}

const (
	// Hashed file names change with their content, so a browser may keep them for good.
	cacheImmutable = "public, max-age=31536000, immutable"
	// index.html carries the tenant's current branding and names the current assets.
	cacheNoCache = "no-cache"
)

// Serve answers a GET or HEAD for a web path (an httpx.WebHandler).
func (h *Handler) Serve(w http.ResponseWriter, r *http.Request) error {
	host := httpx.HostFrom(r.Context())
	a := pick(host.Kind, r.URL.Path)
	securityHeaders(w.Header(), "")
	if r.URL.Path+"/" == a.mount {
		// The app's router and asset URLs assume its base with the slash.
		target := a.mount
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, target, http.StatusMovedPermanently)
		return nil
	}
	if h.dist == nil {
		return notBuilt(w)
	}
	rel := strings.TrimPrefix(path.Clean("/"+strings.TrimPrefix(r.URL.Path, a.mount)), "/")
	if rel == "" || rel == "index.html" {
		return h.index(w, r, a, host)
	}
	name := a.dir + "/" + rel
	switch info, err := fs.Stat(h.dist, name); {
	case err == nil && !info.IsDir():
		return h.file(w, r, name, strings.HasPrefix(rel, "assets/"))
	case err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, fs.ErrInvalid):
		return err
	}
	// A missing asset is a 404: answering index.html for a script fails in the browser with a
	// MIME-type error that hides the real cause. Any other path is a client-side route.
	if strings.HasPrefix(rel, "assets/") || path.Ext(rel) != "" {
		return httpx.NewProblem(http.StatusNotFound, "not_found", "no such file")
	}
	return h.index(w, r, a, host)
}

// file serves one built file.
func (h *Handler) file(w http.ResponseWriter, r *http.Request, name string, hashed bool) error {
	f, err := h.dist.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	body, ok := f.(io.ReadSeeker)
	if !ok {
		raw, err := io.ReadAll(f)
		if err != nil {
			return err
		}
		body = bytes.NewReader(raw)
	}
	hd := w.Header()
	if ct := contentType(name); ct != "" {
		hd.Set("Content-Type", ct)
	}
	if hashed {
		hd.Set("Cache-Control", cacheImmutable)
	} else {
		hd.Set("Cache-Control", cacheNoCache)
		tag, err := h.etag(name, body)
		if err != nil {
			return err
		}
		hd.Set("ETag", tag)
	}
	// ServeContent answers Range and If-None-Match; embedded files carry no modification time.
	http.ServeContent(w, r, name, time.Time{}, body)
	return nil
}

// etag is a strong validator for a file whose name does not change with its content
// (favicon.ico, robots.txt), so a revalidation costs a 304 rather than the file.
func (h *Handler) etag(name string, body io.ReadSeeker) (string, error) {
	if tag, ok := h.etags.Load(name); ok {
		return tag.(string), nil
	}
	sum := sha256.New()
	if _, err := io.Copy(sum, body); err != nil {
		return "", err
	}
	if _, err := body.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	tag := `"` + base64.RawURLEncoding.EncodeToString(sum.Sum(nil)[:12]) + `"`
	h.etags.Store(name, tag)
	return tag, nil
}

// extraTypes are file types Vite emits that Go's built-in table lacks (minimal images such as
// distroless have no /etc/mime.types).
var extraTypes = map[string]string{
	".woff2": "font/woff2", ".woff": "font/woff", ".ttf": "font/ttf", ".ico": "image/x-icon",
	".webmanifest": "application/manifest+json", ".map": "application/json", ".txt": "text/plain; charset=utf-8",
}

func contentType(name string) string {
	ext := strings.ToLower(path.Ext(name))
	if ct, ok := extraTypes[ext]; ok {
		return ct
	}
	return mime.TypeByExtension(ext)
}

// index serves app a's index.html with the host's head written in.
func (h *Handler) index(w http.ResponseWriter, r *http.Request, a app, host tenancy.Host) error {
	page, err := fs.ReadFile(h.dist, a.dir+"/index.html")
	if errors.Is(err, fs.ErrNotExist) {
		return notBuilt(w)
	}
	if err != nil {
		return err
	}
	hd, err := h.head(r.Context(), host)
	if err != nil {
		return err
	}
	out := inject(page, hd.html)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", cacheNoCache)
	securityHeaders(w.Header(), hd.scriptHash)
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(out)
	}
	return nil
}

// head builds the host's head. A tenant whose branding cannot be read still gets its page,
// with its registry name and the default colours: the app reads the branding again itself.
func (h *Handler) head(ctx context.Context, host tenancy.Host) (head, error) {
	if host.Kind != tenancy.KindTenant {
		return render(newBoot(host, nil))
	}
	v, err := h.brands.Get(ctx, host.Tenant)
	if err != nil {
		if ctx.Err() != nil {
			return head{}, ctx.Err()
		}
		h.log.WarnContext(ctx, "web: read branding; serving default colours", "tenant", host.Tenant.Slug, "err", err)
		v = nil
	}
	return render(newBoot(host, v))
}

// notBuilt answers when the binary carries no build of the app asked for.
func notBuilt(w http.ResponseWriter) error {
	hd := w.Header()
	hd.Set("Content-Type", "text/plain; charset=utf-8")
	hd.Set("Cache-Control", cacheNoCache)
	w.WriteHeader(http.StatusNotFound)
	_, _ = io.WriteString(w, "Paotui: the web apps are not built into this binary.\n\n"+
		"Build them and the binary with `make build` (runs `make web`, which needs Node.js and npm,\n"+
		"then `go build -tags webdist`). The JSON API is served under /api/v1 (docs at /api/docs).\n")
	return nil
}

// securityHeaders are set on every web response (Serve sets them first; index adds its
// script's hash). scriptHash allows the one inline script a
// page carries (the boot data); the apps' own scripts are files from this origin. Inline styles
// stay allowed: the head's colour variables and the UI kits (Vant, Element Plus) set style
// attributes. Stripe.js is allowed for card payments; map tiles and logos may come from any
// https server the tenant configures.
func securityHeaders(h http.Header, scriptHash string) {
	// Stripe's documented CSP for Stripe.js and its Payment Element.
	script := "'self' https://js.stripe.com https://*.js.stripe.com"
	if scriptHash != "" {
		script += " '" + scriptHash + "'"
	}
	h.Set("Content-Security-Policy", "default-src 'self'; script-src "+script+
		"; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob: https:; font-src 'self' data:"+
		"; connect-src 'self' https://api.stripe.com; frame-src https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com"+
		"; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	h.Set("X-Frame-Options", "DENY")
}
