package httpx

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/paotui/paotui/internal/platform/tenancy"
)

// WebHandler serves the web apps (see ServeWeb). Instead of writing an error page it may return
// an error, a *Problem to choose the answer.
type WebHandler func(w http.ResponseWriter, r *http.Request) error

// webRoute is the catch-all ServeWeb registers; echo runs it only when no other route matches.
const webRoute = "/*"

// routeMethods are the methods unrouted probes, in the order echo lists them in Allow.
var routeMethods = []string{http.MethodDelete, http.MethodGet, http.MethodHead, http.MethodPatch, http.MethodPost, http.MethodPut}

// ServeWeb hands h the GET and HEAD requests that no route claims outside /api: the web apps
// and their client-side routes. The Host is resolved first, so unknown hosts keep
// tenant_not_found, and a tenant that is being set up or was deleted keeps the status gate's
// problem. A suspended tenant's pages are served: its users must see the branded paused page.
// Every other unrouted request gets the answer it had without the catch-all.
func (s *Server) ServeWeb(h WebHandler) {
	s.Echo.RouteNotFound(webRoute, func(c echo.Context) error {
		r := c.Request()
		if isAPIPath(r.URL.Path) || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
			return s.unrouted(c)
		}
		if host := info(r.Context()).host; host.Kind == tenancy.KindTenant {
			if p := statusProblem(host.Tenant, true); p != nil {
				return p
			}
		}
		return h(c.Response(), r)
	})
}

func isAPIPath(p string) bool { return p == "/api" || strings.HasPrefix(p, "/api/") }

// unrouted answers as echo does without a catch-all: echo lets a not-found route win over its
// 405, so the methods that do have a route at this path are looked up again here.
func (s *Server) unrouted(c echo.Context) error {
	r := c.Request()
	var allow []string
	for _, m := range routeMethods {
		probe := s.Echo.NewContext(r, nil)
		s.Echo.Router().Find(m, echo.GetPath(r), probe)
		if p := probe.Path(); p != "" && p != webRoute {
			allow = append(allow, m)
		}
	}
	if len(allow) == 0 {
		return echo.ErrNotFound
	}
	c.Response().Header().Set(echo.HeaderAllow, strings.Join(append([]string{http.MethodOptions}, allow...), ", "))
	if r.Method == http.MethodOptions {
		return c.NoContent(http.StatusNoContent)
	}
	return echo.ErrMethodNotAllowed
}
