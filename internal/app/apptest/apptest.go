// Package apptest runs the whole application for integration tests: a fresh PostgreSQL
// database and Redis database per test, tenants provisioned through the real provisioning
// code, and an HTTP client per tenant host that goes through the real echo router.
package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/paotui/paotui/internal/app"
	"github.com/paotui/paotui/internal/config"
	"github.com/paotui/paotui/internal/httpx"
	"github.com/paotui/paotui/internal/platform/provision"
	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/store"
	"github.com/paotui/paotui/internal/store/storetest"
)

// Env is one running application.
type Env struct {
	App    *app.App
	Server *httpx.Server
	HTTP   *httptest.Server
	DBURL  string
	t      testing.TB
}

// New starts the application on a fresh database; everything is torn down when t ends.
// extraEnv are PAOTUI_* overrides ("KEY=value").
func New(t testing.TB, extraEnv ...string) *Env {
	t.Helper()
	ctx := context.Background()
	d, err := storetest.CreateDatabase(ctx, t.Name())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Drop(context.Background()) })
	if err := store.NewMigrator(d.URL, 4, nil).UpPlatform(ctx); err != nil {
		t.Fatal(err)
	}
	env := append([]string{"PAOTUI_DATABASE_URL=" + d.URL, "PAOTUI_REDIS_URL=" + storetest.Redis(t),
		"PAOTUI_STORAGE_LOCAL_DIR=" + t.TempDir()}, extraEnv...)
	cfg, err := config.Load("", env)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	// The live-event hub serves SSE streams; Close (above) stops it.
	go func() { _ = a.Hub.Run(context.Background()) }()
	srv := a.HTTP()
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return &Env{App: a, Server: srv, HTTP: hs, DBURL: d.URL, t: t}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// Tenant registers and provisions a tenant (blueprint "default", or the one given) through
// the real provisioning service, inline.
func (e *Env) Tenant(slug, ownerPhone string, blueprint ...string) *tenancy.Tenant {
	e.t.Helper()
	ctx := context.Background()
	bp := "default"
	if len(blueprint) > 0 {
		bp = blueprint[0]
	}
	t, err := e.App.Provision.Register(ctx, provision.Request{Slug: slug, Name: slug + " 跑腿", OwnerPhone: ownerPhone, Blueprint: bp})
	if err != nil {
		e.t.Fatalf("register %s: %v", slug, err)
	}
	if err := e.App.Provision.Provision(ctx, t.ID); err != nil {
		e.t.Fatalf("provision %s: %v", slug, err)
	}
	t, err = e.App.Registry.ByID(ctx, t.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return t
}

// Host is the host name of a tenant slug under the test base domain.
func (e *Env) Host(slug string) string { return slug + "." + e.App.Cfg.BaseDomain }

// PlatformHost is the super-admin host.
func (e *Env) PlatformHost() string { return tenancy.PlatformSubdomain + "." + e.App.Cfg.BaseDomain }

// Response is an HTTP answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test on error.
func (r *Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// Problem decodes a problem body.
func (r *Response) Problem(t testing.TB) httpx.Problem {
	t.Helper()
	var p httpx.Problem
	r.JSON(t, &p)
	return p
}

// Do sends a request to host with an optional bearer token and JSON body (a string is sent
// as is, anything else is marshalled).
func (e *Env) Do(host, method, path, token string, body any) *Response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.HTTP.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Host = host
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return e.send(req)
}

// send runs req. An event stream (SSE) never ends, so of those only the head is read: up to
// the end of the first event, or what arrived within a second.
func (e *Env) send(req *http.Request) *Response {
	e.t.Helper()
	ctx, cancel := context.WithCancel(req.Context())
	defer cancel()
	res, err := e.HTTP.Client().Do(req.WithContext(ctx))
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		raw, _ := io.ReadAll(res.Body)
		return &Response{Status: res.StatusCode, Header: res.Header, Body: raw}
	}
	stop := time.AfterFunc(time.Second, cancel)
	defer stop.Stop()
	var head []byte
	buf := make([]byte, 4096)
	for !bytes.Contains(head, []byte("\n\n")) || !bytes.Contains(head, []byte("data:")) {
		n, err := res.Body.Read(buf)
		head = append(head, buf[:n]...)
		if err != nil {
			break
		}
	}
	return &Response{Status: res.StatusCode, Header: res.Header, Body: head}
}

// Session is a signed-in tenant user.
type Session struct {
	AccessToken  string `json:"accessToken"`
	RefreshToken string `json:"refreshToken"`
	User         struct {
		ID    string   `json:"id"`
		Roles []string `json:"roles"`
	} `json:"user"`
}

// Login signs phone in on the tenant's host with an SMS code read from the dev SMS driver.
func (e *Env) Login(slug, phone string) *Session {
	e.t.Helper()
	host := e.Host(slug)
	if r := e.Do(host, "POST", "/api/v1/auth/sms-code", "", map[string]string{"phone": phone}); r.Status != http.StatusAccepted {
		e.t.Fatalf("send code to %s on %s: %d %s", phone, slug, r.Status, r.Body)
	}
	code := e.App.SMS.LastCode(phone)
	r := e.Do(host, "POST", "/api/v1/auth/login", "", map[string]string{"phone": phone, "code": code})
	if r.Status != http.StatusOK {
		e.t.Fatalf("login %s on %s: %d %s", phone, slug, r.Status, r.Body)
	}
	var s Session
	r.JSON(e.t, &s)
	return &s
}

// PlatformLogin creates (if needed) and signs in a platform admin.
func (e *Env) PlatformLogin(email, password, role string) string {
	e.t.Helper()
	_, _ = e.App.Identity.CreateAdmin(context.Background(), email, password, identityRole(role))
	r := e.Do(e.PlatformHost(), "POST", "/api/v1/platform/auth/login", "", map[string]string{"email": email, "password": password})
	if r.Status != http.StatusOK {
		e.t.Fatalf("platform login: %d %s", r.Status, r.Body)
	}
	var s Session
	r.JSON(e.t, &s)
	return s.AccessToken
}

// DoWithHeader is Do without a token but with extra request headers.
func (e *Env) DoWithHeader(host, method, path string, headers map[string]string, body any) *Response {
	e.t.Helper()
	raw, err := json.Marshal(body)
	if err != nil {
		e.t.Fatal(err)
	}
	req, err := http.NewRequest(method, e.HTTP.URL+path, bytes.NewReader(raw))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Host = host
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return e.send(req)
}
