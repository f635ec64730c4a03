package httpx

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humaecho"
	"github.com/google/uuid"
	"github.com/labstack/echo-contrib/echoprometheus"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/paotui/paotui/internal/config"
	"github.com/paotui/paotui/internal/platform/tenancy"
)

// HostResolver maps a Host header to a tenant or platform surface.
type HostResolver interface {
	Resolve(ctx context.Context, host string) (tenancy.Host, error)
	BySlug(ctx context.Context, slug string) (*tenancy.Tenant, error)
}

// Checker is a readiness dependency (PostgreSQL, Redis).
type Checker struct {
	Name  string
	Check func(context.Context) error
}

// Deps are what the server needs from the rest of the system.
type Deps struct {
	Config   *config.Config
	Hosts    HostResolver
	Verifier Verifier
	Authz    Authorizer
	// Idempotency stores replies of operations declared Idempotent; nil disables replay.
	Idempotency IdempotencyStore
	Ready       []Checker
	Log         *slog.Logger
	// Registry receives the Prometheus collectors; nil uses a fresh registry.
	Registry *prometheus.Registry
	// ImpAudit audits requests made in support sessions (impersonation); nil records nothing.
	ImpAudit ImpersonationAudit
}

// Server is the HTTP front: echo underneath, huma on top.
type Server struct {
	Echo     *echo.Echo
	API      huma.API
	cfg      *config.Config
	hosts    HostResolver
	verifier Verifier
	authz    Authorizer
	idem     IdempotencyStore
	impAudit ImpersonationAudit
	log      *slog.Logger
	http     *http.Server
}

// TenantHeader names the tenant for native clients and tests; honoured only on the base host.
const TenantHeader = "X-Paotui-Tenant"

// New builds the server; domains then register their operations on s.API.
func New(d Deps) *Server {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.IPExtractor = ipExtractor(d.Config.HTTP.Proxies())
	s := &Server{Echo: e, cfg: d.Config, hosts: d.Hosts, verifier: d.Verifier, authz: d.Authz, idem: d.Idempotency,
		impAudit: d.ImpAudit, log: d.Log}
	e.HTTPErrorHandler = s.echoError

	reg := d.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	e.Use(s.requestContext)
	e.Use(s.recoverer)
	e.Use(s.accessLog)
	e.Use(cleanQuery)
	e.Use(echoprometheus.NewMiddlewareWithConfig(echoprometheus.MiddlewareConfig{
		Namespace: "paotui", Registerer: reg,
		Skipper: func(c echo.Context) bool { return c.Path() == "/metrics" },
	}))
	e.Use(middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: d.Config.HTTP.BodyLimit,
		// Uploads stream under their own limit (Access.OwnBodyLimit); echo runs Use
		// middleware after routing, so c.Path() is the matched route.
		Skipper: func(c echo.Context) bool {
			_, own := ownBodyLimit.Load(c.Request().Method + " " + c.Path())
			return own
		}}))
	e.Use(s.resolveHost)

	e.GET("/healthz", func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]string{"status": "ok"}) })
	e.GET("/readyz", s.readyz(d.Ready))
	e.GET("/metrics", echoprometheus.NewHandlerWithConfig(echoprometheus.HandlerConfig{Gatherer: reg}))

	hc := huma.DefaultConfig("Paotui API", "1.0.0")
	hc.Info.Description = "Paotui (跑腿): campus errand running for many campus teams. Every operation declares " +
		"x-paotui-scope (tenant, platform, base, any), x-paotui-auth and x-paotui-permission. Errors are " +
		"RFC 9457 problem+json with a stable `code`."
	hc.OpenAPIPath = "/api/openapi"
	hc.DocsPath = "/api/docs"
	hc.SchemasPath = "/api/schemas"
	hc.CreateHooks = nil // no $schema links in bodies: clients use the generated types
	hc.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"bearer": {Type: "http", Scheme: "bearer", BearerFormat: "JWT"},
	}
	hc.Transformers = append(hc.Transformers, func(ctx huma.Context, _ string, v any) (any, error) {
		if p, ok := v.(*Problem); ok && p.Instance == "" {
			p.Instance = RequestID(ctx.Context())
		}
		return v, nil
	})
	api := humaecho.New(e, hc)
	api.UseMiddleware(s.gate)
	s.API = api
	return s
}

// Start serves until ctx ends, then shuts down gracefully.
func (s *Server) Start(ctx context.Context) error {
	s.http = &http.Server{
		Addr:              s.cfg.HTTP.Addr,
		Handler:           s.Echo,
		ReadHeaderTimeout: s.cfg.HTTP.ReadTimeout,
		ReadTimeout:       s.cfg.HTTP.ReadTimeout,
		// No WriteTimeout on the server: SSE streams stay open. Handlers bound their own work
		// with the request context; the write_timeout applies per operation.
		IdleTimeout: 2 * time.Minute,
	}
	errc := make(chan error, 1)
	go func() { errc <- s.http.ListenAndServe() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		return s.http.Shutdown(shutdown)
	}
}

// ServeHTTP lets tests drive the server without a socket.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.Echo.ServeHTTP(w, r) }

func (s *Server) requestContext(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		id := req.Header.Get(echo.HeaderXRequestID)
		if id == "" || len(id) > 64 || strings.ContainsAny(id, " \t\r\n") {
			id = uuid.NewString()
		}
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		ri := &requestInfo{id: id, ip: c.RealIP()}
		c.SetRequest(req.WithContext(withInfo(req.Context(), ri)))
		return next(c)
	}
}

func (s *Server) recoverer(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				logFault(c.Request().Context(), "panic", []error{errors.New(stringify(r))})
				err = NewProblem(http.StatusInternalServerError, "internal", internalDetail)
			}
		}()
		return next(c)
	}
}

// accessLog writes one JSON line per request: no query strings, bodies or personal data.
func (s *Server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		ri := info(c.Request().Context())
		attrs := []any{
			"request_id", ri.id, "method", c.Request().Method, "route", c.Path(),
			"status", c.Response().Status, "ms", time.Since(start).Milliseconds(),
		}
		if ri.operation != "" {
			attrs = append(attrs, "operation", ri.operation)
		}
		if ri.host.Tenant != nil {
			attrs = append(attrs, "tenant", ri.host.Tenant.Slug)
		}
		if ri.principal != nil {
			attrs = append(attrs, "user", ri.principal.Actor())
		}
		level := slog.LevelInfo
		if c.Response().Status >= 500 {
			level = slog.LevelError
		}
		s.log.Log(c.Request().Context(), level, "request", attrs...)
		return nil
	}
}

// resolveHost turns the Host header into a tenant or platform surface before any handler runs.
func (s *Server) resolveHost(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		switch c.Request().URL.Path {
		case "/healthz", "/readyz", "/metrics":
			return next(c)
		}
		ctx := c.Request().Context()
		ri := info(ctx)
		h, err := s.hosts.Resolve(ctx, c.Request().Host)
		if errors.Is(err, tenancy.ErrUnknownHost) {
			return NewProblem(http.StatusNotFound, "tenant_not_found", "no campus service at this address")
		}
		if err != nil {
			logFault(ctx, "resolve host", []error{err})
			return NewProblem(http.StatusServiceUnavailable, "unavailable", "the service is briefly unavailable; try again").WithRetryAfter(2e9)
		}
		if slug := c.Request().Header.Get(TenantHeader); slug != "" {
			switch {
			case h.Kind == tenancy.KindBase:
				t, err := s.hosts.BySlug(ctx, strings.ToLower(slug))
				if err != nil {
					return NewProblem(http.StatusNotFound, "tenant_not_found", "no campus service named %q", slug)
				}
				h = tenancy.Host{Kind: tenancy.KindTenant, Tenant: t}
			case h.Kind == tenancy.KindTenant && strings.EqualFold(slug, h.Tenant.Slug):
			default:
				return NewProblem(http.StatusBadRequest, "tenant_mismatch", "the %s header does not match this host", TenantHeader)
			}
		}
		ri.host = h
		return next(c)
	}
}

func (s *Server) readyz(checks []Checker) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
		defer cancel()
		out := map[string]string{}
		status := http.StatusOK
		for _, ch := range checks {
			if err := ch.Check(ctx); err != nil {
				out[ch.Name] = "down"
				status = http.StatusServiceUnavailable
				s.log.Warn("readiness check failed", "check", ch.Name, "err", err)
			} else {
				out[ch.Name] = "ok"
			}
		}
		return c.JSON(status, out)
	}
}

// echoError renders every error that reaches echo (unknown routes, body limit, problems from
// middleware) as problem+json.
func (s *Server) echoError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	var p *Problem
	var he *echo.HTTPError
	switch {
	case errors.As(err, &p):
	case errors.As(err, &he):
		msg, _ := he.Message.(string)
		if msg == "" {
			msg = http.StatusText(he.Code)
		}
		p = NewProblem(he.Code, codeForStatus(he.Code), "%s", msg)
		if he.Code >= 500 {
			logFault(c.Request().Context(), "http error", []error{err})
			p.Detail = internalDetail
		}
	default:
		logFault(c.Request().Context(), "unhandled error", []error{err})
		p = NewProblem(http.StatusInternalServerError, "internal", internalDetail)
	}
	p.Instance = RequestID(c.Request().Context())
	for k, v := range p.GetHeaders() {
		c.Response().Header()[k] = v
	}
	c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
	c.Response().WriteHeader(p.Status)
	_ = json.NewEncoder(c.Response()).Encode(p)
}

// writeProblem answers from huma middleware.
func (s *Server) writeProblem(ctx huma.Context, p *Problem) {
	p.Instance = RequestID(ctx.Context())
	for k, v := range p.GetHeaders() {
		ctx.SetHeader(k, v[0])
	}
	ctx.SetHeader("Content-Type", "application/problem+json")
	ctx.SetStatus(p.Status)
	_ = json.NewEncoder(ctx.BodyWriter()).Encode(p)
}

func ipExtractor(proxies []string) echo.IPExtractor {
	if len(proxies) == 0 {
		return echo.ExtractIPDirect()
	}
	var opts []echo.TrustOption
	opts = append(opts, echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false))
	for _, p := range proxies {
		if _, n, err := net.ParseCIDR(p); err == nil {
			opts = append(opts, echo.TrustIPRange(n))
		}
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

func stringify(v any) string {
	if err, ok := v.(error); ok {
		return err.Error()
	}
	if s, ok := v.(string); ok {
		return s
	}
	return "panic"
}

// cleanQuery refuses a query string whose values hold a NUL byte or invalid UTF-8: PostgreSQL
// cannot store either in text, so such a value reaching a query is a 500 rather than a 422.
// One check here covers every operation's parameters, present and future; the problem names
// the parameter like huma's own validation does.
func cleanQuery(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		var bad []*huma.ErrorDetail
		for name, values := range c.QueryParams() {
			for _, v := range values {
				if !isText(name) || !isText(v) {
					bad = append(bad, &huma.ErrorDetail{Location: "query." + strings.ToValidUTF8(strings.ReplaceAll(name, "\x00", ""), "?"),
						Message: "must be text: no NUL byte, valid UTF-8"})
					break
				}
			}
		}
		if len(bad) > 0 {
			p := NewProblem(http.StatusUnprocessableEntity, "validation_failed", "validation failed")
			p.Errors = bad
			return p
		}
		return next(c)
	}
}

func isText(s string) bool { return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 }
